"""Record numbers: MRN, account, policy, licence, device, serial and other unique ids.

With a context word (MRN: 12345) any id-looking token counts; without one, long digit runs and
letter+digit codes count as generic IDs, since clinical prose rarely has 8+ digit numbers that are
not identifiers.
"""
from __future__ import annotations

import re
from typing import Iterator

from .. import anchors
from ..adapter import PhiDetector
from ..spans import PhiSpan

_MRN_WORDS = (r"mrn|medical\s+record(?:\s+(?:number|no|num))?|med\s+rec|record\s*(?:number|no|num|#)|"
              r"chart(?:\s+(?:number|no|num))?|patient\s+id|pt\s+id|patient\s+number|hospital\s+(?:number|no)|"
              r"unit\s+(?:number|no)|encounter(?:\s+(?:number|no|id))?|admission\s+(?:number|no|id)|fin|csn|mr")
_ID_WORDS = (r"account(?:\s+(?:number|no|num))?|acct|a/c|member(?:\s+(?:id|number|no))?|policy(?:\s+(?:number|no))?|"
             r"insurance(?:\s+(?:id|number|no))?|subscriber(?:\s+(?:id|number))?|group(?:\s+(?:number|no))|"
             r"medicaid(?:\s+(?:id|number|no))?|medicare(?:\s+(?:id|number|no))?|health\s+plan(?:\s+(?:id|number))?|"
             r"beneficiary(?:\s+(?:id|number))?|"
             r"driver'?s?\s+licen[cs]e(?:\s+(?:number|no|num))?|licen[cs]e(?:\s+(?:number|no|num|plate))?|dl|"
             r"passport(?:\s+(?:number|no))?|certificate(?:\s+(?:number|no))?|"
             r"device(?:\s+(?:id|serial|number|no))?|serial(?:\s+(?:number|no))?|s/n|sn|imei|udi|"
             r"vin|plate(?:\s+(?:number|no))?|npi|dea(?:\s+(?:number|no))?|claim(?:\s+(?:number|no|id))?|"
             r"case(?:\s+(?:number|no|id))?|reference(?:\s+(?:number|no))?|ref|confirmation(?:\s+(?:number|no))?|"
             r"employee(?:\s+(?:id|number))?|student(?:\s+(?:id|number))?|badge(?:\s+(?:id|number))?|"
             r"tax\s+id|ein|tin|itin|nhs(?:\s+number)?|id(?:\s+(?:number|no))?|identifier|card(?:\s+(?:number|no))?|"
             r"iban|routing(?:\s+(?:number|no))?|bank\s+account|swift|bic|pin")
_CONNECT = r"(?:\s*(?:#|no\.?|number|num\.?|:|=|is|was|of|-)){0,3}\s*"
# a value is any token with a digit; the words before it say whether it is an MRN or another id
_CANDIDATE = re.compile(r"(?<![\w\-/.])(?=[A-Za-z0-9\-/.]*\d)[A-Za-z0-9][A-Za-z0-9\-/.]{2,30}[A-Za-z0-9]")
_MRN_BEFORE = re.compile(r"\b(?:" + _MRN_WORDS + r")\b\.?" + _CONNECT + r"$", re.IGNORECASE)
_ID_BEFORE = re.compile(r"\b(?:" + _ID_WORDS + r")\b\.?" + _CONNECT + r"$", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"(?<![\w\-./])\d{8,}(?![\w\-]|\.\d)")
_CODE = re.compile(r"(?<![\w\-])(?=[A-Z0-9\-]*[A-Z])(?=(?:[A-Z\-]*\d){5})[A-Z][A-Z0-9\-]{5,24}(?![\w\-])")
_DIGIT = re.compile(r"\d")
_HASH_NUMBER = re.compile(r"(?<![\w&])#\s?(?P<v>\d{4,})\b")


class IdentifierDetector(PhiDetector):
    name = "identifier"
    kind = "ID"

    def find(self, text: str) -> Iterator[PhiSpan]:
        if not _DIGIT.search(text):
            return
        digits = anchors.digit_starts(text)
        for m in anchors.matches_at(_CANDIDATE, text, _token_starts(text, digits)):
            if not _enough_digits(m.group()):
                continue
            before = max(0, m.start() - 45)
            if _MRN_BEFORE.search(text, before, m.start()):
                yield self.span(m.start(), m.end(), "mrn-context", 0.95, kind="MRN")
            elif _ID_BEFORE.search(text, before, m.start()):
                yield self.span(m.start(), m.end(), "id-context", 0.95)
        for m in anchors.matches_at(_LONG_NUMBER, text, digits):
            yield self.span(m.start(), m.end(), "long-number", 0.5)
        for m in _CODE.finditer(text):
            yield self.span(m.start(), m.end(), "alphanumeric-code", 0.5)
        for m in _HASH_NUMBER.finditer(text):
            yield self.span(*m.span("v"), "hash-number", 0.5)


def _enough_digits(value: str) -> bool:
    return sum(ch.isdigit() for ch in value) >= 3


def _token_starts(text: str, digit_starts: tuple[int, ...]) -> tuple[int, ...]:
    """Where each token that holds a digit begins ("MR2608934" begins at the M)."""
    starts = []
    for pos in digit_starts:
        while pos > 0 and (text[pos - 1].isalnum() or text[pos - 1] in "-/.") and pos > 0:
            pos -= 1
        while pos < len(text) and text[pos] in "-/.":
            pos += 1
        if not starts or starts[-1] != pos:
            starts.append(pos)
    return tuple(sorted(set(starts)))
