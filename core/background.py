"""One background-thread pattern for the whole code base, written once.

Several parts hand work from request or task threads to a single thread of their process: the
intake's group commit, the workers' event linger, the lease renewer. Each needs the same
things: a daemon thread started on first use in *this* process (a thread does not survive a
fork, so a gunicorn or Celery child starts its own), woken by an event or a timer, taking what
queued up meanwhile under a lock, and never dying of an exception in its step.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from core import failures

log = logging.getLogger("mindq.background")
T = TypeVar("T")
_starting = threading.Lock()  # serialises starts; made anew in a forked child (never held there)


def _after_fork_in_child() -> None:
    global _starting
    _starting = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


class Mailbox(Generic[T]):
    """Items put by many threads and taken in batches by one.

    A forked child starts with an empty box and a fresh lock: what the parent had queued is the
    parent's to deliver (the child would send it twice, or answer requests it never received),
    and a lock held by a parent's thread at the fork would never be released in the child.
    """

    def __init__(self) -> None:
        self._items: list[T] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _own(self) -> None:
        if self._pid != os.getpid():
            self._items, self._lock, self._pid = [], threading.Lock(), os.getpid()

    def __len__(self) -> int:
        self._own()
        return len(self._items)

    def put(self, item: T) -> bool:
        """Add ``item``; True when the box was empty before (the taker may need a wake-up)."""
        self._own()
        with self._lock:
            self._items.append(item)
            return len(self._items) == 1

    def take(self, limit: int | None = None) -> list[T]:
        """Up to ``limit`` items (all when None), oldest first."""
        self._own()
        with self._lock:
            if limit is None:
                batch, self._items = self._items, []
            else:
                batch, self._items = self._items[:limit], self._items[limit:]
        return batch


class BackgroundThread:
    """A daemon thread per process that runs ``step`` each time it is woken, ``linger`` seconds
    after the wake-up, or every ``every`` seconds when given (a timer, woken early by ``wake``).

    ``step`` should handle its own expected errors; anything else is logged by type and place
    (never its message, which may quote patient text) and the thread carries on.
    """

    def __init__(self, name: str, step: Callable[[], None], *, every: float | None = None,
                 linger: float = 0.0) -> None:
        self.name = name
        self._step = step
        self._every = every
        self._linger = linger
        self._wake = threading.Event()
        self._owner_pid: int | None = None

    def start(self) -> None:
        """Start the thread unless this process already runs it (cheap to call every time)."""
        if self._owner_pid == os.getpid():
            return
        with _starting:
            if self._owner_pid == os.getpid():
                return
            if self._owner_pid is not None:  # a forked child: the parent's event stays behind
                self._wake = threading.Event()
            self._owner_pid = os.getpid()
        threading.Thread(target=self._run, daemon=True, name=self.name).start()

    def wake(self) -> None:
        self.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(self._every)
            self._wake.clear()
            if self._linger:
                time.sleep(self._linger)
            try:
                self._step()
            except Exception as exc:
                log.error("background step failed", extra={"background": self.name, "error_type": type(exc).__name__,
                                                           "where": failures.where(exc)})
