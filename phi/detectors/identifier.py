"""Record numbers: MRN, account, policy, licence, device, serial and other unique ids.

With a context word (MRN: 12345) any id-looking token counts; without one, long digit runs and
letter+digit codes count as generic IDs, since clinical prose rarely has 8+ digit numbers that are
not identifiers.
"""
from __future__ import annotations

import re
from typing import Iterator

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
_VALUE = r"(?P<v>(?=[A-Z0-9\-]*\d)[A-Z0-9][A-Z0-9\-/.]{2,30}[A-Z0-9])"
_CONNECT = r"(?:\s*(?:#|no\.?|number|num\.?|:|=|is|was|of|-)){0,3}\s*"
_MRN = re.compile(r"\b(?:" + _MRN_WORDS + r")\b\.?" + _CONNECT + _VALUE, re.IGNORECASE)
_ID = re.compile(r"\b(?:" + _ID_WORDS + r")\b\.?" + _CONNECT + _VALUE, re.IGNORECASE)
_LONG_NUMBER = re.compile(r"(?<![\w\-./])\d{8,}(?![\w\-]|\.\d)")
_CODE = re.compile(r"(?<![\w\-])(?=[A-Z0-9\-]*[A-Z])(?=(?:[A-Z\-]*\d){5})[A-Z][A-Z0-9\-]{5,24}(?![\w\-])")
_HASH_NUMBER = re.compile(r"(?<![\w&])#\s?(?P<v>\d{4,})\b")


class IdentifierDetector(PhiDetector):
    name = "identifier"
    kind = "ID"

    def find(self, text: str) -> Iterator[PhiSpan]:
        for m in _MRN.finditer(text):
            if _enough_digits(m.group("v")):
                yield self.span(*m.span("v"), "mrn-context", 0.95, kind="MRN")
        for m in _ID.finditer(text):
            if _enough_digits(m.group("v")):
                yield self.span(*m.span("v"), "id-context", 0.95)
        for m in _LONG_NUMBER.finditer(text):
            yield self.span(m.start(), m.end(), "long-number", 0.5)
        for m in _CODE.finditer(text):
            yield self.span(m.start(), m.end(), "alphanumeric-code", 0.5)
        for m in _HASH_NUMBER.finditer(text):
            yield self.span(*m.span("v"), "hash-number", 0.5)


def _enough_digits(value: str) -> bool:
    return sum(ch.isdigit() for ch in value) >= 3
