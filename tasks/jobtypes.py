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
    import prompts

    types = {t.name: t for t in CPU_TYPES}
    for name, spec in prompts.ANALYSIS_TYPES.items():
        inputs = tuple(getattr(spec, "inputs", ("text",)))
        types[name] = JobType(
            name, "llm", "texts" if len(inputs) > 1 else "text",
            getattr(spec, "description", name), getattr(spec, "version", "1"),
            tuple(getattr(spec, "labels", ()) or ()))
    for t in PAYLOAD_TYPES:
        types[t.name] = t
    return types


PAYLOAD_TYPES = (
    JobType("forecast", "cpu", "payload", "Forecast a patient's symptom scores (PHQ-9, GAD-7, mood...) for "
            "1..H weeks ahead, with 90% split-conformal intervals, from the attention + gradient "
            "boosting ensemble.", "forecast@1"),
    JobType("deterioration", "cpu", "payload", "Probability of clinically meaningful worsening (e.g. PHQ-9 "
            "+5 within 4 weeks), calibrated, with the top contributing features.", "deterioration@1"),
    JobType("biometric_correlation", "cpu", "payload", "Lagged correlation (0..7 days) of daily biometrics "
            "with a symptom series, Benjamini-Hochberg corrected, with effect sizes.", "biometric_correlation@1"),
)


def payload_model(name: str):
    """The pydantic model that validates a payload job type's input."""
    from forecasting.schemas import BiometricCorrelationRequest, DeteriorationRequest, ForecastRequest

    return {"forecast": ForecastRequest, "deterioration": DeteriorationRequest,
            "biometric_correlation": BiometricCorrelationRequest}[name]
