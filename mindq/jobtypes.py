"""The registry of job types the platform accepts: name → worker kind and input shape.

LLM analysis types come from ``prompts.ANALYSIS_TYPES``; ``scrub`` and the forecasting types run
on the cpu queue.
"""
from __future__ import annotations

import dataclasses
import functools


@dataclasses.dataclass(frozen=True)
class JobType:
    name: str
    kind: str  # "cpu" | "llm"
    input: str  # "text" | "texts" (text + previous_text) | "payload" (JSON series)
    description: str
    version: str = "1"
    labels: tuple[str, ...] = ()


CPU_TYPES = (
    JobType("scrub", "cpu", "text", "Detect and mask PHI (HIPAA Safe Harbor identifiers); returns the "
            "scrubbed text and the kinds of identifiers found.", "scrub@1"),
)


@functools.lru_cache(maxsize=1)
def job_types() -> dict[str, JobType]:
    types = {t.name: t for t in CPU_TYPES}
    try:
        import prompts
    except ImportError:  # prompts/ not installed: only the cpu types
        prompts = None
    if prompts is not None:
        for name, spec in prompts.ANALYSIS_TYPES.items():
            inputs = tuple(getattr(spec, "inputs", ("text",)))
            types[name] = JobType(
                name, "llm", "texts" if len(inputs) > 1 else "text",
                getattr(spec, "description", name), getattr(spec, "version", "1"),
                tuple(getattr(spec, "labels", ()) or ()))
    try:
        from forecasting import jobtypes as forecast_types  # type: ignore
    except ImportError:
        forecast_types = None
    if forecast_types is not None:
        for name, description in forecast_types.JOB_TYPES.items():
            types[name] = JobType(name, "cpu", "payload", description, f"{name}@1")
    return types
