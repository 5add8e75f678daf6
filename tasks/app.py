"""The Celery application, built from mindq's settings (``celery -A tasks.app worker ...``)."""
from __future__ import annotations

from collections.abc import Callable

from celery import Celery
from kombu import Exchange, Queue

from core.config import Settings, load_settings
from tasks.routing import CPU_QUEUE, QUEUES


def celery_config(settings: Settings) -> dict:
    return dict(
        broker_url=settings.redis_url,
        # one message in flight per process slot, acknowledged only after the job is done:
        # a killed worker's message goes back to the queue instead of being lost
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_acks_on_failure_or_timeout=True,
        broker_transport_options={
            # redelivery of unacked messages after a lost worker: above the longest task
            "visibility_timeout": settings.visibility_timeout,
            # BRPOP lists queues in the given order: interactive before batch
            "queue_order_strategy": "priority",
            # bounded socket waits: a publish to a Redis that hangs (stopped, or a dead peer that
            # sent no reset) fails and is held (tasks.intake) instead of holding a request forever
            "socket_timeout": 5, "socket_connect_timeout": 2,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_time_limit=settings.task_time_limit,
        task_soft_time_limit=max(settings.task_time_limit - 30, 30),
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_default_queue=CPU_QUEUE,
        # each queue its own direct exchange and routing key, so routing never rests on Celery's
        # defaults (Queue(name) alone binds all three to the `cpu` exchange under the key `cpu`;
        # anything publishing by that key would reach every queue)
        task_queues=[Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES],
        task_routes={name: {"queue": CPU_QUEUE} for name in ("mindq.reconcile", "mindq.purge_inputs", "mindq.noop",
                                                                "mindq.callback", "mindq.reanalysis_start",
                                                                "mindq.reanalysis_tick", "mindq.reanalysis_callback")},
        worker_hijack_root_logger=False,
        worker_disable_rate_limits=True,  # no per-task rate limits: skip the token-bucket check per message
        worker_send_task_events=True,  # Flower shows tasks live (received/started/succeeded)
        beat_schedule={
            "reconcile": {"task": "mindq.reconcile", "schedule": settings.reconcile_interval,
                          "options": {"expires": settings.reconcile_interval}},
            "purge-inputs": {"task": "mindq.purge_inputs", "schedule": 3600.0, "options": {"expires": 3600}},
            # nightly journal runs (each tenant's MINDQ_NIGHTLY_CRON, in its time zone) and quiet runs' resumption
            "reanalysis-tick": {"task": "mindq.reanalysis_tick", "schedule": 60.0, "options": {"expires": 60}},
        },
        timezone="UTC",
        # an API request must not hang on a dead broker: the reconciler sends the job later
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2},
    )


def make_celery(settings_factory: Callable[[], Settings] = load_settings) -> Celery:
    app = Celery("mindq", include=["tasks.jobs", "tasks.housekeeping", "tasks.callbacks",
                                   "tasks.reanalysis"])
    # evaluated on first use, not at import: a process (or test) may set REDIS_URL after importing
    app.add_defaults(lambda: celery_config(settings_factory()))
    return app


def _runtime_settings() -> Settings:
    from core import config

    return config.settings()


app = make_celery(_runtime_settings)
