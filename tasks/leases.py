"""One thread per process renews the leases of every job it runs, in one UPDATE, and tells a
running job when it was cancelled (its lease is then no longer renewable), so no task thread
has to poll the database for that."""
from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable

from core import config
from core.background import BackgroundThread
from jobstore import runtime
from jobstore.lifecycle import JobLifecycle

log = logging.getLogger("mindq.tasks")


class Leases:
    def __init__(self, lease_s: float, lifecycle: Callable[[], JobLifecycle]) -> None:
        self.lease_s = lease_s  # how long a silent execution keeps a job
        self._lifecycle = lifecycle
        self._held: dict[str, str] = {}
        self._on_lost: dict[str, Callable[[], None]] = {}
        self._lock = threading.Lock()
        # renewed every third of the lease, so two missed renewals still keep it
        self._renewer = BackgroundThread("lease-renewer", self._renew, every=min(lease_s / 3, 2.0))

    def hold(self, job_id: str, owner: str) -> None:
        with self._lock:
            self._held[job_id] = owner
        self._renewer.start()

    def on_lost(self, job_id: str, callback: Callable[[], None]) -> None:
        with self._lock:
            self._on_lost[job_id] = callback

    def release(self, job_id: str) -> None:
        with self._lock:
            self._held.pop(job_id, None)
            self._on_lost.pop(job_id, None)

    def _renew(self) -> None:
        with self._lock:
            held = list(self._held.items())
        if not held:
            return
        try:
            renewed = self._lifecycle().renew_leases(held, self.lease_s)
        except Exception as exc:  # a failed renewal only risks a harmless duplicate run
            log.warning("lease renewal failed", extra={"error_type": type(exc).__name__})
            return
        for job_id, _ in held:
            if job_id not in renewed:
                with self._lock:
                    callback = self._on_lost.pop(job_id, None) if job_id in self._held else None
                if callback is not None:
                    callback()


@functools.lru_cache(maxsize=1)
def leases() -> Leases:
    """The process's lease holder, with the configured lease (read on first use, not at import)."""
    return Leases(config.settings().lease_seconds, runtime.job_lifecycle)
