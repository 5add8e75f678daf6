"""Record numbers: MRN, account, policy, licence, device, serial and other unique ids.

With a label right before it (MRN: 12345) any id-looking token counts; without one, long digit
runs and letter+digit codes count as generic IDs, since clinical prose rarely has 8+ digit numbers
that are not identifiers.
"""
from __future__ import annotations

import re

from .. import anchors
from ..context import before, label_before
from .base import Pattern, PatternDetector, holds, holds_near_digits

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
# a value is any token with a digit; the label before it says whether it is an MRN or another id
_CANDIDATE = re.compile(r"(?<![\w\-/.])(?=[A-Za-z0-9\-/.]*\d)[A-Za-z0-9][A-Za-z0-9\-/.]{2,30}[A-Za-z0-9]")
_MRN_LABEL = re.compile(r"\b(?:" + _MRN_WORDS + r")\b\.?" + _CONNECT + r"$", re.IGNORECASE)
_ID_LABEL = re.compile(r"\b(?:" + _ID_WORDS + r")\b\.?" + _CONNECT + r"$", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"(?<![\w\-./])\d{8,}(?![\w\-]|\.\d)")
_CODE = re.compile(r"(?<![\w\-])(?=[A-Z0-9\-]*[A-Z])(?=(?:[A-Z\-]*\d){5})[A-Z][A-Z0-9\-]{5,24}(?![\w\-])")
_HASH_NUMBER = re.compile(r"(?<![\w&])#\s?(?P<v>\d{4,})\b")
_TOKEN_PUNCTUATION = "-/."


def _token_starts(text: str) -> tuple[int, ...]:
    """Where each token that holds a digit begins ("MR2608934" begins at the M). Linear: a walk
    back that reaches the previous digit run reuses that run's answer."""
    starts: list[int] = []
    last_pos, last_back = -1, -1
    for pos in anchors.digit_starts(text):
        digit = pos
        while pos > 0 and (text[pos - 1].isalnum() or text[pos - 1] in _TOKEN_PUNCTUATION):
            if pos - 1 == last_pos:
                pos = last_back
                break
            pos -= 1
        last_pos, back = digit, pos
        if back == last_back:
            continue  # same token as the previous run: same start
        last_back = back
        while pos < len(text) and text[pos] in _TOKEN_PUNCTUATION:
            pos += 1
        if not starts or starts[-1] != pos:
            starts.append(pos)
    return tuple(sorted(set(starts)))


def _short(text: str, start: int, end: int) -> bool:
    return sum(ch.isdigit() for ch in text[start:end]) < 3


def _leading_literals(words: str) -> tuple[str, ...]:
    """The literal start of each top-level alternative of ``words`` ("medical\\s+record..." -> "medical",
    "licen[cs]e" -> "licen", "driver'?s?" -> "driver"): every label match holds one of them."""
    alternatives, depth, current, i = [], 0, "", 0
    while i < len(words):
        c = words[i]
        if c == "\\":
            current, i = current + words[i:i + 2], i + 2
            continue
        depth += (c == "(") - (c == ")")
        if c == "|" and depth == 0:
            alternatives.append(current)
            current = ""
        else:
            current += c
        i += 1
    literals = []
    for alternative in [*alternatives, current]:
        literal = re.match(r"[a-z/' ]*", alternative).group()  # type: ignore[union-attr]  # always matches
        if alternative[len(literal):len(literal) + 1] in ("?", "*", "{"):
            literal = literal[:-1]  # its last character is optional
        assert literal, alternative
        literals.append(literal)
    return tuple(literals)


def _any_of(literals: tuple[str, ...]) -> re.Pattern[str]:
    """Finds one of ``literals`` (what ``any(literal in window ...)`` says, in one scan)."""
    return re.compile("|".join(map(re.escape, literals)))


_MRN_LITERALS = _any_of(_leading_literals(_MRN_WORDS))
_ID_LITERALS = _any_of(_leading_literals(_ID_WORDS))


def _may_have_label(text: str, start: int, literals: re.Pattern[str]) -> bool:
    """A cheap test before the label regex (~40 us: dozens of alternatives tried at each position of
    the window), asked of every token with a digit: a label needs one of its words' literal starts in
    the window. Only for ASCII windows, where a case-insensitive match is a match in lower case."""
    window = before(text, start)
    if not window.isascii():
        return True
    return literals.search(window.lower()) is not None


def _mrn_label(text: str, start: int, end: int) -> bool:
    return _may_have_label(text, start, _MRN_LITERALS) and label_before(_MRN_LABEL, text, start) is not None


def _id_label(text: str, start: int, end: int) -> bool:
    return _may_have_label(text, start, _ID_LITERALS) and label_before(_ID_LABEL, text, start) is not None


_VENT_SETTING = re.compile(r"\d{2,4}[x*]\d{1,2}(?:[/\-]\d{1,3})*")


def _short_or_mrn(text: str, start: int, end: int) -> bool:
    """Too few digits, an MRN label's, or a vent setting after "A/C" (assist-control 500x10)."""
    return _short(text, start, end) or _mrn_label(text, start, end) or \
        _VENT_SETTING.fullmatch(text, start, end) is not None


def _code_start(text: str, run: int) -> int:
    """Where "[A-Z](?:[A-Z\\-]*\\d){5}" can begin for a run of digits (the run of its first digit): the
    capital before the run, hyphens between; a match that begins further left has one that begins there."""
    begin = run - 1
    while begin >= 0 and text[begin] == "-":
        begin -= 1
    return begin if begin >= 0 and "A" <= text[begin] <= "Z" else -1


class IdentifierDetector(PatternDetector):
    name = "identifier"
    kind = "ID"
    patterns = (
        # one token shape; its label decides: an MRN label first, then any other id label
        Pattern("mrn-context", _CANDIDATE, 0.95, kind="MRN", at=_token_starts, validate=_mrn_label, invalidate=_short),
        Pattern("id-context", _CANDIDATE, 0.95, at=_token_starts, validate=_id_label, invalidate=_short_or_mrn),
        Pattern("long-number", _LONG_NUMBER, 0.5, at=anchors.digit_starts),
        Pattern("alphanumeric-code", _CODE, 0.5, needs=holds_near_digits(r"[A-Z](?:[A-Z\-]*\d){5}", _code_start)),
        Pattern("hash-number", _HASH_NUMBER, 0.5, needs=holds(r"#\s?\d{4}")),
    )

    def applies(self, text: str) -> bool:
        return bool(anchors.digit_starts(text))
