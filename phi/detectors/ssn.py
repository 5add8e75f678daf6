"""US Social Security numbers: dashed, spaced, undashed and partial (with context words)."""
from __future__ import annotations

import re

from .. import anchors
from ..context import before
from .base import Pattern, PatternDetector, holds

_DASHED = re.compile(r"(?<![\w\-])\d{3}-\d{2}-\d{4}(?![\w\-])")
_SPACED = re.compile(r"(?<![\w\-])\d{3}[ .]\d{2}[ .]\d{4}(?![\w\-])")
_PLAIN = re.compile(r"(?<![\w\-])\d{9}(?![\w\-])")
# (?<![\w\-])(?:[xX*#]{3}|\d{3}) written so that the regex begins with a class re can jump to: the
# first mask or digit, then the lookbehind, then two more of the same kind
_MASKED = re.compile(r"[xX*#\d](?<![\w\-].)(?:(?<=[xX*#])[xX*#]{2}|(?<=\d)\d{2})[\- ]?(?:[xX*#]{2}|\d{2})[\- ]?\d{4}"
                     r"(?![\w\-])")
_ENDING_IN = re.compile(r"\b(?:ssn|social\s+security(?:\s+(?:number|no\.?|#))?|ss#)\s*(?:#|number)?\s*"
                        r"(?:ending|ends)\s+(?:in|with)\s+(?P<v>\d{4})\b", re.IGNORECASE)
_LAST4 = re.compile(r"(?<![\w\-])\d{4}(?![\w\-])")


def _area_000(text: str, start: int, end: int) -> bool:
    return text.startswith("000", start)  # no SSN is issued with area number 000


def _says_ending(text: str) -> bool:
    return "ending" in text or "ends" in text  # lower case only, as it always was ("ENDING IN" is missed)


def _after_last(text: str, start: int, end: int) -> bool:
    return "last" in before(text, start).lower()  # "last 4 of SSN 1234", "last4", "the last four"


class SsnDetector(PatternDetector):
    name = "ssn"
    kind = "SSN"
    context = ("ssn", "ss", "social", "security", "ssns", "soc", "sec", "ss#", "ssn#")
    patterns = (
        Pattern("dashed", _DASHED, at=anchors.digit_starts, invalidate=_area_000),
        Pattern("spaced", _SPACED, 0.9, at=anchors.digit_starts, context=True),
        Pattern("plain", _PLAIN, 0.9, at=anchors.digit_starts, context=True),
        Pattern("masked", _MASKED, 0.9, needs=holds(r"[\dxX*#]{2}[\- ]?\d{4}(?![\w\-])"), context=True),
        Pattern("ending-in", _ENDING_IN, 0.85, needs=_says_ending),
        Pattern("last-four", _LAST4, 0.8, needs=("last",), context=True, validate=_after_last),
    )

    def applies(self, text: str) -> bool:
        return bool(anchors.digit_starts(text))
