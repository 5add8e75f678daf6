"""US Social Security numbers: dashed, spaced, undashed and partial (with context words)."""
from __future__ import annotations

import re
from typing import Iterator

from .. import anchors
from ..adapter import PhiDetector
from ..context import has_context
from ..spans import PhiSpan

_DIGIT = re.compile(r"\d")
_CONTEXT = ("ssn", "ss", "social", "security", "ssns", "soc", "sec", "ss#", "ssn#")
_DASHED = re.compile(r"(?<![\w\-])\d{3}-\d{2}-\d{4}(?![\w\-])")
_SPACED = re.compile(r"(?<![\w\-])\d{3}[ .]\d{2}[ .]\d{4}(?![\w\-])")
_PLAIN = re.compile(r"(?<![\w\-])\d{9}(?![\w\-])")
_MASKED = re.compile(r"(?<![\w\-])(?:[xX*#]{3}|\d{3})[\- ]?(?:[xX*#]{2}|\d{2})[\- ]?\d{4}(?![\w\-])")
_ENDING_IN = re.compile(r"\b(?:ssn|social\s+security(?:\s+(?:number|no\.?|#))?|ss#)\s*(?:#|number)?\s*"
                        r"(?:ending|ends)\s+(?:in|with)\s+(?P<v>\d{4})\b", re.IGNORECASE)
_LAST4 = re.compile(r"(?<![\w\-])\d{4}(?![\w\-])")


class SsnDetector(PhiDetector):
    name = "ssn"
    kind = "SSN"

    def find(self, text: str) -> Iterator[PhiSpan]:
        if not _DIGIT.search(text):
            return
        digits = anchors.digit_starts(text)
        for m in anchors.matches_at(_DASHED, text, digits):
            if not m.group().startswith("000"):
                yield self.span(m.start(), m.end(), "dashed")
        for pattern, regex in (("spaced", _SPACED), ("plain", _PLAIN), ("masked", _MASKED)):
            found = regex.finditer(text) if pattern == "masked" else anchors.matches_at(regex, text, digits)
            for m in found:
                if has_context(text, m.start(), m.end(), _CONTEXT, 40):
                    yield self.span(m.start(), m.end(), pattern, 0.9)
        if "ending" in text or "ends" in text:
            for m in _ENDING_IN.finditer(text):
                yield self.span(*m.span("v"), "ending-in", 0.85)
        if "last" in text.lower():
            for m in _LAST4.finditer(text):
                before = text[max(0, m.start() - 40):m.start()].lower()
                if "last" in before and has_context(text, m.start(), m.end(), _CONTEXT, 40):
                    yield self.span(m.start(), m.end(), "last-four", 0.8)
