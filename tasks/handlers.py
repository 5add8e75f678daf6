"""Job handlers: what each job type does once its task has claimed the job.

Each handler gets a JobContext (decrypted payload, stage reporting) and returns an Outcome; the
base task stores it. Patient text is scrubbed before anything else sees it.
"""
from __future__ import annotations

import collections
from collections.abc import Callable

from core.errors import ErrorCode
from tasks.contract import JobContext, JobError, Outcome
from tasks.jobtypes import job_types
from tasks.scrubbing import scrub_version, scrubber


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
    raise JobError(ErrorCode.UNKNOWN_ANALYSIS_TYPE, f"this worker has no handler for job type {ctx.type!r}")
