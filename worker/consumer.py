"""The Celery consumer of mindq's workers: Celery's own, with a resumed queue kept selected.

Celery's ``cancel_consumer`` deselects a queue from the app's consume-from set, but its
``add_consumer`` re-adds a known queue only to the live consumer, not to that set. The worker
keeps consuming until its next broker reconnect, which rebuilds the consumer from the set: a
queue an operator paused and resumed (Flower's buttons, ``celery control``) is then silently
dropped, and its jobs wait until someone restarts the worker. Here resuming selects it again.
"""
from __future__ import annotations

from typing import Any

from celery.worker.consumer import Consumer as CeleryConsumer


class Consumer(CeleryConsumer):
    def add_task_queue(self, queue: str, exchange: Any = None, exchange_type: Any = None,
                       routing_key: Any = None, **options: Any) -> None:
        queues = self.app.amqp.queues
        if queue in queues and queue not in queues.consume_from:
            queues.select_add(queues[queue])  # the known definition, selected again: what a reconnect consumes
        super().add_task_queue(queue, exchange=exchange, exchange_type=exchange_type,
                               routing_key=routing_key, **options)
