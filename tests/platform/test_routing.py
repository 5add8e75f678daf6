"""A message sent to a queue lands in that queue only (kombu's Redis transport routes by
exchange bindings: a shared routing key would copy every job into every queue)."""
from __future__ import annotations

import dataclasses

from core import config
from jobstore import runtime
from tasks.app import celery_config
from tasks.routing import QUEUES, queue_for


def test_each_queue_gets_only_its_own_messages(platform_env):
    from celery import Celery

    settings = config.settings()
    private_url = settings.redis_url.rsplit("/", 1)[0] + "/7"  # a database no worker listens on
    app = Celery("routing-test")
    app.conf.update(celery_config(dataclasses.replace(settings, redis_url=private_url)))
    r = runtime.redis_client().__class__.from_url(private_url)
    r.flushdb()
    with app.connection_for_write() as conn:
        for queue in app.amqp.queues.values():
            queue.bind(conn.default_channel).declare()  # what each worker does at start
        for name in QUEUES:
            app.send_task("mindq.noop", args=[0], queue=name, connection=conn)
    assert {name: r.llen(name) for name in QUEUES} == dict.fromkeys(QUEUES, 1)


def test_routing_by_kind_and_priority():
    assert queue_for("cpu", "interactive") == queue_for("cpu", "batch") == "cpu"
    assert queue_for("llm", "interactive") == "llm.interactive"
    assert queue_for("llm", "batch") == "llm.batch"
