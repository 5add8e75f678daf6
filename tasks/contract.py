"""What a job handler sees and returns: its context, its outcome, and the errors it may raise."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from core.errors import ErrorCode
from jobstore.lifecycle import JobLifecycle
from jobstore.pg import Row


class JobError(Exception):
    """An expected failure with a stable code; its message is safe to show (never patient text)."""

    def __init__(self, code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


class JobCancelled(Exception):
    pass


class RetryLater(Exception):
    """The job cannot run now (another execution's live lease, a transient outage): send it
    again in ``countdown`` seconds."""

    def __init__(self, countdown: float) -> None:
        super().__init__(countdown)
        self.countdown = countdown


@dataclasses.dataclass
class JobContext:
    job: Row
    payload: dict[str, Any]
    attempt: int
    lifecycle: JobLifecycle
    # registers a callback for the lease thread to call if the job is cancelled while it runs
    watch_cancel: Callable[[str, Callable[[], None]], None]

    @property
    def id(self) -> str:
        return str(self.job["id"])

    @property
    def type(self) -> str:
        return str(self.job["type"])

    @property
    def options(self) -> dict[str, Any]:
        return self.job.get("options") or {}

    @property
    def priority(self) -> str:
        return str(self.job["priority"])

    def stage(self, stage: str, progress: int, **extra: Any) -> None:
        """Persist a stage change and stream it; raises JobCancelled if the job was cancelled."""
        if not self.lifecycle.set_stage(self.id, stage, progress, extra or None):
            raise JobCancelled(self.id)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from the lease thread) if the job is cancelled while it runs."""
        self.watch_cancel(self.id, callback)

    def progress_event(self, stage: str, progress: int, **extra: Any) -> None:
        """Stream-only progress (token counts): too frequent to write to PostgreSQL each time."""
        self.lifecycle.set_stage(self.id, stage, progress, extra or None, persist=False)


@dataclasses.dataclass
class Outcome:
    result: dict[str, Any]
    model_id: str | None = None
    prompt_version: str | None = None


Handler = Callable[[JobContext], Outcome]
