"""A Redis outage: submissions are accepted durably and answer at once (their messages are held
and sent when Redis is back), and an event stream ends cleanly instead of dying in a traceback."""
from __future__ import annotations

import logging
import socket

from jobstore import runtime
from mindq.embedded import start_redis
from tasks import intake
from tests.platform.conftest import paused, wait_job, wait_until


def test_submissions_during_a_redis_outage_answer_at_once_and_run_afterwards(api, client, keys, services,
                                                                            cpu_worker, caplog):
    # an operator paused the queue and resumed it (Flower's buttons) before the outage: Celery's
    # resume alone leaves the queue out of what the worker consumes after it reconnects
    with paused("cpu", f"worker-cpu@{socket.gethostname()}"):
        pass
    svc = services["redis"]
    port = int(svc.url.rsplit(":", 1)[1].split("/")[0])
    svc.stop()
    try:
        ids = []
        with caplog.at_level(logging.WARNING, logger="mindq.intake"):
            for i in range(6):
                status, body, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": f"outage {i} call 555-010-{1000 + i}"})
                assert status == 202, body  # durable in PostgreSQL: accepted
                assert body["state"] == "queued"
                ids.append(body["id"])
        # why they answer at once: the first one tried the broker (kombu's publish retries, once);
        # the others skipped it and were held, none waiting out retries of its own
        tried = [r for r in caplog.records if r.getMessage().startswith("enqueue deferred")
                 and r.threadName != "intake-outbox"]  # the outbox's own retries do not hold up a request
        assert len(tried) == 1 and intake.held_messages() == 6, [r.getMessage() for r in tried]

        # a stream opened now ends cleanly with a comment telling the client to come back
        resp = client.get(f"/v1/jobs/{ids[0]}/events", headers={"Authorization": f"Bearer {keys['clinic-a']}"})
        text = resp.get_data(as_text=True)
        assert resp.status_code == 200
        assert text.startswith("retry: 2000") and "event: job" in text  # the queued event, from the row
        assert text.endswith("reconnect with Last-Event-ID\n\n"), text[-300:]
        status, body, _ = api("GET", f"/v1/jobs/{ids[0]}")
        assert status == 200 and body["state"] == "queued"
    finally:
        services["redis"] = start_redis(services["dir"] / "redis", port)
    r = runtime.redis_client()
    wait_until(lambda: r.ping(), 20, what="redis back")
    # the next submission sends the held messages with its own, or the outbox's retry does
    status, later, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "after the outage 555-010-2000"})
    assert status == 202, later
    wait_until(lambda: intake.held_messages() == 0, 30, what="the held messages sent")
    for job_id in [*ids, later["id"]]:
        done = wait_job(api, job_id, timeout=90)
        assert done["state"] == "succeeded" and "[PHONE]" in done["result"]["text"]
