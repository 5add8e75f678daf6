"""Plain result types shared by the scrubber, the detectors and the evaluation."""
from __future__ import annotations

from dataclasses import dataclass, field

KINDS: tuple[str, ...] = (
    "NAME", "DATE", "PHONE", "EMAIL", "ADDRESS", "LOCATION",
    "MRN", "SSN", "AGE", "URL", "IP", "ID",
)


@dataclass(frozen=True)
class PhiSpan:
    """One identifier found in a text: ``text[start:end]`` is the PHI.

    ``detector`` and ``pattern`` say what found it, so misses and false positives can be traced.
    """

    start: int
    end: int
    kind: str
    detector: str = ""
    pattern: str = ""
    score: float = 1.0


@dataclass(frozen=True)
class ScrubResult:
    text: str
    spans: list[PhiSpan] = field(default_factory=list)
