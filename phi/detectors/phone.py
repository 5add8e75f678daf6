"""Phone and fax numbers: US and international shapes, with extensions.

A digit run with separators counts as a phone when it has 7-15 digits and at least one group of
3+ digits; shapes that are dates, SSNs or decimal lab values are left to their own detectors.
"""
from __future__ import annotations

import re
from typing import Iterator

from .. import anchors
from ..adapter import PhiDetector
from ..context import has_context
from ..spans import PhiSpan

_DIGIT = re.compile(r"\d")
_PHONE = re.compile(
    r"(?<![\w+/.\-])"
    r"(?:(?:\+|00)\d{1,3}[ .\-]*)?"             # country code
    r"(?:\(0\)\s*)?"                            # +41 (0)xx trunk prefix
    r"(?:\(\d{1,5}\)[ .\-]*)?"                   # (area)
    r"\d{1,8}(?:(?:[ .\-]|\s-\s|\)\s?)\d{1,8}){0,5}"  # groups
    r"(?:\s*(?:x|ext\.?|extension|ext)\s*\d{1,6})?"
    r"(?![\w/])",
    re.IGNORECASE,
)
_OPENER = re.compile(r"[+(](?=\d)")
_CONTEXT = ("phone", "tel", "telephone", "call", "cell", "mobile", "fax", "pager", "number", "contact",
            "reach", "text", "ph", "mob", "whatsapp", "hotline", "line", "dial", "landline")
_DATE_SHAPE = re.compile(r"^\d{4}[.\-]\d{1,2}[.\-]\d{1,2}$|^\d{1,2}[.\-]\d{1,2}[.\-]\d{2,4}$")
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension)\s*\d+$", re.IGNORECASE)


class PhoneDetector(PhiDetector):
    name = "phone"
    kind = "PHONE"

    def find(self, text: str) -> Iterator[PhiSpan]:
        if not _DIGIT.search(text):
            return
        starts = anchors.digit_starts(text)
        if "+" in text or "(" in text:
            starts = tuple(sorted(set(starts) | {m.start() for m in _OPENER.finditer(text)}))
        for m in anchors.matches_at(_PHONE, text, starts):
            candidate = m.group().rstrip(" .-")
            end = m.start() + len(candidate)
            pattern = _classify(candidate, has_context(text, m.start(), end, _CONTEXT, 30))
            if pattern:
                yield self.span(m.start(), end, pattern, 0.9 if pattern != "context" else 0.8)


def _classify(candidate: str, context: bool) -> str:
    body = _EXTENSION.sub("", candidate)
    digits = sum(ch.isdigit() for ch in body)
    groups = re.findall(r"\d+", body)
    if digits < 7 or digits > 15:
        return "context" if context and 5 <= digits <= 15 and len(groups) >= 2 else ""
    if _DATE_SHAPE.match(body) or _SSN_SHAPE.match(body):
        return ""
    if body.startswith(("+", "00")) or "(" in body:
        return "international" if body.startswith(("+", "00")) else "area-code"
    if len(groups) == 1:
        # one bare run: phone only with a context word (else MRN/ID detectors decide)
        return "context" if context and digits in (7, 10, 11) else ""
    if max(len(g) for g in groups) < 3:
        return "context" if context else ""
    if "." in body and len(groups) == 2:
        return ""  # 1234.5678 is a decimal, not a phone
    return "separated"
