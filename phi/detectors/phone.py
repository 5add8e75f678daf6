"""Phone and fax numbers: US and international shapes, with extensions.

A digit run with separators counts as a phone when it has 7-15 digits and at least one group of
3+ digits; shapes that are dates, SSNs or decimal lab values are left to their own detectors.
Shorter or plainer runs ("555 0123", "6175550123") count only after a phone word.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .. import anchors
from .base import Check, Pattern, PatternDetector

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
_DATE_SHAPE = re.compile(r"^\d{4}[.\-]\d{1,2}[.\-]\d{1,2}$|^\d{1,2}[.\-]\d{1,2}[.\-]\d{2,4}$")
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension)\s*\d+$", re.IGNORECASE)
_GROUP = re.compile(r"\d+")
# 617/555/0142, 212- 555- 0187, (617)555- 0142: three, three and four digits with looser separators
_LOOSE = re.compile(r"(?<![\w/.\-])(?:\(\d{3}\)\s*|\d{3}(?:\s*[/\-.]\s*|\s+))\d{3}(?:\s*[/\-.]\s*|\s+)\d{4}"
                    r"(?![\w/]|\.\d)")
# not phones: a shift "1900-0700", a blood gas "7.41-38-92", a chain of vent settings "500/14/5/50"
_CLOCK_RANGE = re.compile(r"^(?:[01]\d|2[0-3])[0-5]\d\s*[-–]\s*(?:[01]\d|2[0-3])[0-5]\d$")
_DECIMAL_START = re.compile(r"^\d\.\d{1,2}[\-/ ]")


def _clinical_number(text: str, start: int, end: int) -> bool:
    candidate = text[start:end]
    return bool(_CLOCK_RANGE.match(candidate) or _DECIMAL_START.match(candidate))


@lru_cache(maxsize=8)  # asked by the shapes' regex and by the loose one, about the same text
def _starts(text: str) -> tuple[int, ...]:
    """Digit runs, and a "+" or "(" right before a digit: where a phone number can begin."""
    starts = anchors.digit_starts(text)
    if "+" in text or "(" in text:
        starts = tuple(sorted(set(starts) | {m.start() for m in _OPENER.finditer(text)}))
    return starts


@lru_cache(maxsize=256)
def _shape(candidate: str) -> str:
    """What a digit run looks like: "international", "area-code", "separated", "context" (a phone
    only after a phone word) or "" (not a phone: too short or long, a date, an SSN, a decimal)."""
    body = _EXTENSION.sub("", candidate)
    groups = _GROUP.findall(body)
    digits = sum(len(g) for g in groups)
    if digits < 7 or digits > 15:
        return "context" if 5 <= digits <= 15 and len(groups) >= 2 else ""
    if _DATE_SHAPE.match(body) or _SSN_SHAPE.match(body):
        return ""
    if body.startswith(("+", "00")):
        return "international"
    if "(" in body:
        return "area-code"
    if len(groups) == 1:
        # one bare run: phone only with a context word (else MRN/ID detectors decide)
        return "context" if digits in (7, 10, 11) else ""
    if max(len(g) for g in groups) < 3:
        return "context"
    if "." in body and len(groups) == 2:
        return ""  # 1234.5678 is a decimal, not a phone
    return "separated"


def _shaped(shape: str) -> Check:
    def check(text: str, start: int, end: int) -> bool:
        # under 5 characters, under 5 digits: no shape (most numbers of a note: 88, 120/80, 98%)
        return end - start >= 5 and _shape(text[start:end]) == shape
    check.__name__ = f"is_{shape.replace('-', '_')}"
    return check


class PhoneDetector(PatternDetector):
    name = "phone"
    kind = "PHONE"
    context = ("phone", "tel", "telephone", "call", "cell", "mobile", "fax", "pager", "number", "contact",
               "reach", "text", "ph", "mob", "whatsapp", "hotline", "line", "dial", "landline")
    patterns = tuple(
        Pattern(shape, _PHONE, score, at=_starts, trim=" .-", validate=_shaped(shape), invalidate=_clinical_number,
                context=shape == "context")
        for shape, score in (("international", 0.9), ("area-code", 0.9), ("separated", 0.9), ("context", 0.8))
    ) + (Pattern("loose-separators", _LOOSE, 0.85, at=_starts),)

    def applies(self, text: str) -> bool:
        return bool(anchors.digit_starts(text))
