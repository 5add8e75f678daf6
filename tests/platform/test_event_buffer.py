"""Worker-side event buffering (jobstore.events.EventBuffer) against the real Redis."""
from __future__ import annotations

import os
import time
import uuid

from jobstore import events, runtime
from tests.platform.conftest import wait_until


def _states(job_id: str) -> list[str]:
    return [e["state"] + ":" + e.get("stage", "") for _, e in events.history(runtime.redis_client(), job_id)]


def _commands(r, name: str) -> int:
    return r.info("commandstats").get(f"cmdstat_{name}", {}).get("calls", 0)


def test_waiting_events_leave_with_the_terminal_one_in_order(platform_env):
    r = runtime.redis_client()
    buffer = events.EventBuffer(r, linger_s=5.0)  # long enough that only send() can flush it
    job = str(uuid.uuid4())
    buffer.add(job, {"state": "running", "stage": "queued"})
    buffer.add(job, {"state": "running", "stage": "scrubbing"})
    assert _states(job) == []  # still waiting
    pipelines = _commands(r, "xadd"), _commands(r, "expire")
    buffer.send(job, {"state": "succeeded", "stage": "done"})
    assert _states(job) == ["running:queued", "running:scrubbing", "succeeded:done"]
    assert (_commands(r, "xadd") - pipelines[0], _commands(r, "expire") - pipelines[1]) == (3, 3)


def test_a_waiting_event_is_sent_after_the_linger_without_a_terminal_one(platform_env):
    buffer = events.EventBuffer(runtime.redis_client(), linger_s=0.05)
    job = str(uuid.uuid4())
    started = time.monotonic()
    buffer.add(job, {"state": "running", "stage": "inference"})
    wait_until(lambda: _states(job) == ["running:inference"], timeout=5, what="the lingering event")
    assert time.monotonic() - started >= 0.05
    # and again once the buffer has emptied: the flusher waits for the next event
    buffer.add(job, {"state": "running", "stage": "generating"})
    wait_until(lambda: len(_states(job)) == 2, timeout=5, what="the second event")


def test_a_forked_child_gets_its_own_flusher(platform_env):
    buffer = events.EventBuffer(runtime.redis_client(), linger_s=0.02)
    buffer.add(str(uuid.uuid4()), {"state": "running", "stage": "parent"})  # the parent's thread
    job = str(uuid.uuid4())
    pid = os.fork()
    if pid == 0:  # the child: no flusher thread was inherited; add() must start one
        code = 1
        try:
            runtime.reset(close=False)  # the parent's connections stay the parent's
            buffer.redis = runtime.redis_client()
            buffer.add(job, {"state": "running", "stage": "child"})
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not _states(job):
                time.sleep(0.01)
            code = 0 if _states(job) == ["running:child"] else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
