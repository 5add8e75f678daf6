"""Payment cards (Luhn-checked) and IBANs (checksum via python-stdnum)."""
from __future__ import annotations

import re
from typing import Iterator

from stdnum import iban, luhn

from .. import anchors
from ..adapter import PhiDetector
from ..context import has_context
from ..spans import PhiSpan

_DIGIT = re.compile(r"\d")
_CARD = re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
_CARD_WORDS = ("card", "visa", "mastercard", "amex", "discover", "credit", "debit", "cc")


class CardDetector(PhiDetector):
    name = "card"
    kind = "ID"

    def find(self, text: str) -> Iterator[PhiSpan]:
        if not _DIGIT.search(text):
            return
        for m in anchors.matches_at(_CARD, text, anchors.digit_starts(text)):
            digits = re.sub(r"\D", "", m.group())
            if luhn.is_valid(digits):
                yield self.span(m.start(), m.end(), "card-luhn", 0.95)
            elif has_context(text, m.start(), m.end(), _CARD_WORDS, 30):
                yield self.span(m.start(), m.end(), "card-context", 0.8)
        for m in _IBAN.finditer(text):
            value = m.group().rstrip()
            yield self.span(m.start(), m.start() + len(value), "iban" if iban.is_valid(value) else "iban-shape",
                            0.95 if iban.is_valid(value) else 0.6)
