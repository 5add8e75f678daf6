"""Job handlers: what each job type does once its task has claimed the job.

Each handler gets a JobContext (decrypted payload, stage reporting) and returns an Outcome; the
base task stores it. Patient text is scrubbed before anything else sees it.
"""
from __future__ import annotations

import collections
import threading
from typing import Callable

from mindq.jobtypes import job_types
from tasks.base import JobContext, JobError, Outcome


_scrubber = None
_scrubber_lock = threading.Lock()


def scrubber():
    """The process's one Scrubber. Built under a lock: a gpu worker's task threads all start at
    once, and each building its own (0.4 s of GIL-bound work apiece) kept 64 first jobs from the
    engine for ~25 s."""
    global _scrubber
    if _scrubber is None:
        with _scrubber_lock:
            if _scrubber is None:
                from phi import Scrubber

                built = Scrubber()
                built.scrub("warm-up: John Smith, 555-201-3344, 12 Elm Street")  # lazy tables load here
                _scrubber = built
    return _scrubber


def scrub_version() -> str:
    import phi

    return f"phi@{getattr(phi, '__version__', '1')}"


def handle_scrub(ctx: JobContext) -> Outcome:
    scrubbed = scrubber().scrub(ctx.payload["text"], surrogate=bool(ctx.options.get("surrogate", False)))
    counts = collections.Counter(span.kind for span in scrubbed.spans)
    return Outcome({
        "text": scrubbed.text,
        "spans": [{"kind": s.kind, "start": s.start, "end": s.end} for s in scrubbed.spans],
        "counts": dict(sorted(counts.items())),
    }, model_id=scrub_version(), prompt_version="scrub@1")



def handler_for(job_type: str) -> Callable[[JobContext], Outcome]:
    if job_type == "scrub":
        return handle_scrub
    spec = job_types().get(job_type)
    if spec is None:
        return _unknown
    if spec.kind == "llm":
        from tasks.analysis import handle_analysis

        return handle_analysis
    if spec.input == "payload":
        from tasks.forecasting import handle_forecasting

        return handle_forecasting
    return _unknown


def _unknown(ctx: JobContext) -> Outcome:
    raise JobError("UNKNOWN_JOB_TYPE", f"this worker has no handler for job type {ctx.type!r}")
