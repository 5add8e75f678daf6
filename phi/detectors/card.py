"""Payment cards (Luhn-checked) and IBANs (checksum via python-stdnum)."""
from __future__ import annotations

import re

from stdnum import iban, luhn

from .. import anchors
from .base import Pattern, PatternDetector, holds_near_digits

_CARD = re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
_NOT_DIGIT = re.compile(r"\D")


def _two_capitals_before(text: str, run: int) -> int:
    """Where "[A-Z]{2}\\d{2}" can begin for a run of digits: two before it, after a capital."""
    return run - 2 if run > 1 and "A" <= text[run - 1] <= "Z" else -1


_IBAN_PART = holds_near_digits(r"[A-Z]{2}\d{2}", _two_capitals_before)


def _luhn(text: str, start: int, end: int) -> bool:
    return bool(luhn.is_valid(_NOT_DIGIT.sub("", text[start:end])))


def _iban(text: str, start: int, end: int) -> bool:
    return bool(iban.is_valid(text[start:end]))


class CardDetector(PatternDetector):
    name = "card"
    kind = "ID"
    context = ("card", "visa", "mastercard", "amex", "discover", "credit", "debit", "cc")
    patterns = (
        # one digit shape: a valid Luhn checksum, or else a card word nearby
        Pattern("card-luhn", _CARD, 0.95, at=anchors.digit_starts, validate=_luhn),
        Pattern("card-context", _CARD, 0.8, at=anchors.digit_starts, invalidate=_luhn, context=True),
        Pattern("iban", _IBAN, 0.95, needs=_IBAN_PART, validate=_iban),
        Pattern("iban-shape", _IBAN, 0.6, needs=_IBAN_PART, invalidate=_iban),
    )

    def applies(self, text: str) -> bool:
        return bool(anchors.digit_starts(text))
