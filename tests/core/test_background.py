"""core.background: one thread per process, woken or timed, that survives its own errors."""
from __future__ import annotations

import os
import threading
import time

from core.background import BackgroundThread, Mailbox


def _until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_mailbox_hands_out_batches_in_order_and_says_when_it_was_empty():
    box: Mailbox[int] = Mailbox()
    assert box.put(1) is True and box.put(2) is False and box.put(3) is False
    assert box.take(2) == [1, 2] and box.take() == [3] and box.take() == []
    assert box.put(4) is True


def test_a_woken_thread_drains_what_queued_up_meanwhile():
    box: Mailbox[int] = Mailbox()
    seen: list[list[int]] = []
    worker = BackgroundThread("test-drain", lambda: seen.append(box.take()), linger=0.05)
    for i in range(5):
        box.put(i)
    worker.wake()
    assert _until(lambda: sum(map(len, seen)) == 5)
    assert [x for batch in seen for x in batch] == [0, 1, 2, 3, 4]
    assert len(seen) == 1  # the linger let all five share one step


def test_a_failing_step_is_logged_and_the_thread_carries_on(caplog):
    calls = []

    def step() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("patient text must never reach the log")

    worker = BackgroundThread("test-errors", step, every=0.02)
    worker.start()
    assert _until(lambda: len(calls) >= 3)
    failures = [r for r in caplog.records if r.getMessage() == "background step failed"]
    assert failures and failures[0].error_type == "ValueError"
    assert "patient text" not in caplog.text


def test_a_forked_child_starts_its_own_thread():
    ran = threading.Event()
    worker = BackgroundThread("test-fork", ran.set)
    worker.wake()
    assert ran.wait(5)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's thread did not come along; wake must start a new one
        ran.clear()
        worker.wake()
        os.write(write, b"1" if ran.wait(5) else b"0")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"
