"""Dates in every common written form, but not doses, scores, blood pressures or times.

Masked: 3/4, 03/04/2024, 2024-03-04, 4-Mar-2024, March 4th, 4th of March, March 2024, the 4th,
holidays (Christmas 2023), month names alone (in March), years (in 1977).
Not masked, by design (documented edge cases): weekdays alone (with a date they are masked with
it: "Thursday the 14th") and relative phrases (last Tuesday,
yesterday, two weeks ago) since they do not identify a date on their own; times alone (10:30);
ratios and scores (PHQ-9 of 14, 7/10 pain, 5/5 strength, BP 120/80); doses (10 mg).
"""
from __future__ import annotations

import re
from typing import Iterator

from .. import anchors
from ..adapter import PhiDetector
from ..spans import PhiSpan

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_MONTH_DOT = _MONTH + r"\.?"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_YEAR_ANY = r"(?:'?\d{2}|1[89]\d\d|20\d\d)"
_TIME = r"(?:[ T,]+(?:at\s+)?\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:\s*[ap]\.?m\.?)?)?"

_FLAGS = re.IGNORECASE
_PATTERNS: list[tuple[str, re.Pattern[str], float]] = [
    ("iso", re.compile(r"(?<![\d\-/.])" + _YEAR + r"[\-/.](?:0?[1-9]|1[0-2])[\-/.](?:0?[1-9]|[12]\d|3[01])"
                       + _TIME + r"(?![\d\-/])"), 1.0),
    ("numeric", re.compile(r"(?<![\d\-/.:])(?:0?[1-9]|[12]\d|3[01])([/\-.])(?:0?[1-9]|[12]\d|3[01])\1"
                           r"(?:\d{4}|\d{2})" + _TIME + r"(?![\d/\-]|\.\d)"), 1.0),
    ("day-mon-year", re.compile(r"(?<![\w\-])" + _DAY + r"[\- ]" + _MONTH_DOT + r"[\- ,]+" + _YEAR_ANY + r"(?![\w\-])",
                                _FLAGS), 1.0),
    ("month-day-year", re.compile(r"\b" + _MONTH_DOT + r"\s+(?:the\s+)?" + _DAY + r"(?:,?\s*" + _YEAR + r")?\b"
                                  + _TIME, _FLAGS), 1.0),
    ("day-of-month", re.compile(r"\b(?:the\s+)?" + _DAY + r"\s+(?:of\s+)?" + _MONTH_DOT + r"(?:,?\s*" + _YEAR
                                + r")?\b", _FLAGS), 1.0),
    ("month-year", re.compile(r"\b" + _MONTH_DOT + r",?\s+(?:of\s+)?" + _YEAR_ANY + r"\b", _FLAGS), 1.0),
    ("month-slash-year", re.compile(r"(?<![\d/\-.])(?:0?[1-9]|1[0-2])/(?:" + _YEAR + r"|\d{2})(?![\d/])"), 0.7),
    ("month-day", re.compile(r"(?<![\d/\-.:,])(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])(?![\d/%]|\.\d)"), 0.6),
    ("ordinal-day", re.compile(r"\bthe\s+(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)\b(?!\s+(?:" +
                               r"floor|grade|time|times|dose|doses|day|days|week|weeks|month|months|year|"
                               r"cycle|attempt|visit|session|percentile|place|birthday|street|st|avenue|ave)\b)",
                               _FLAGS), 0.8),
    ("holiday", re.compile(r"\b(?:Christmas(?:\s+Eve|\s+Day)?|Xmas|Thanksgiving|Easter|Halloween|Hanukkah|"
                           r"Kwanzaa|Ramadan|Eid|Diwali|Passover|Yom\s+Kippur|Rosh\s+Hashanah|"
                           r"New\s+Year'?s(?:\s+Eve|\s+Day)?|Valentine'?s\s+Day|Mother'?s\s+Day|Father'?s\s+Day|"
                           r"Independence\s+Day|Memorial\s+Day|Labor\s+Day|Veterans\s+Day|Fourth\s+of\s+July|"
                           r"St\.?\s+Patrick'?s\s+Day)(?:,?\s+(?:of\s+)?" + _YEAR_ANY + r")?\b"), 0.8),
    ("month-alone", re.compile(r"\b(?:January|February|March|April|June|July|August|September|October|"
                               r"November|December|Jan|Feb|Aug|Sept|Oct|Nov|Dec)\b\.?"), 0.6),
    ("may-alone", re.compile(r"\b(?i:in|of|since|until|till|early|late|mid|last|next|this|by)\s+(?P<v>May)\b"
                             r"|\b(?P<w>May)(?=\s+(?:and|or|through|to)\s+(?:June|April))"), 0.6),
    ("weekday-with-date", re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+(?:the\s+(?:[12]\d|3[01]|0?[1-9])"
                                     r"(?:st|nd|rd|th)\b|\d{1,2}/\d{1,2}\b|" + _MONTH_DOT + r"\s+\d{1,2})", _FLAGS), 0.9),
    ("year", re.compile(r"(?<![\d$#.,\-/])(?:19[0-9]\d|20[0-4]\d)(?![\d%]|\.\d|,\d|\s*(?:mg|mcg|ml|cc|kcal|calories|"
                        r"units|iu|steps|dollars|usd|people|patients|miles|km|feet|ft|lbs|kg|g|words|times)\b)",
                        _FLAGS), 0.7),
    ("year-abbrev", re.compile(r"\b(?:in|since|of|from|until|class)\s+(?P<v>'\d{2})\b", _FLAGS), 0.8),
    ("season-year", re.compile(r"\b(?:spring|summer|fall|autumn|winter)\s+(?:of\s+)?" + _YEAR_ANY + r"\b", _FLAGS), 0.8),
]

# words near an m/d or a bare number that make it a score, a ratio or a pressure, not a date
_NOT_DATE_BEFORE = re.compile(
    r"(?:\bbp|blood pressure|pressure|\bscore[sd]?|\brated?|rating|\bpain|\bscale|strength|out of|phq|gad|"
    r"reflex(?:es)?|motor|ratio|\bdose|\bmg|\btabs?|\bsats?|spo2|\bo2|\bhr|pulse|\bvs|vitals|\bgcs|moca|mmse|"
    r"\bpcl|\bbdi|\bcssrs|\baudit|\bdast|\bgrade|\bi:e|\bx|\bhgb|\bwbc|\bplt|\bna|\bk)\W{0,3}(?:of\s+|was\s+|is\s+|at\s+|"
    r"=\s*|:\s*)?$", re.IGNORECASE)
_NOT_DATE_AFTER = re.compile(r"^\s*(?:mmhg|strength|mg|mcg|ml|tabs?|tablets?|pills?|of\s+(?:the|a|my|his|her|them|"
                             r"those|these|\d)|pain|on the|scale|\+|cups?|doses?|ppd|packs?|oz|times|x\b|bpm|score|points?|"
                             r"days?\s+(?:a|per)|hours?|hrs?|nights?|weeks?\s+(?:a|per)|servings?|drinks?|beers?)",
                             re.IGNORECASE)


# patterns that can only begin at a digit run or at a month name are tried there alone (anchors.py);
# the others scan the text, and only when it has a digit / a month name at all
_AT_DIGIT = frozenset({"iso", "numeric", "day-mon-year", "month-slash-year", "month-day", "year"})
_AT_MONTH = frozenset({"month-day-year", "month-year", "month-alone"})
_NEEDS_MONTH = frozenset({"day-of-month", "may-alone"})
# substrings (of the lower-cased text) without which a scanning pattern cannot match
_GATES = {
    "ordinal-day": ("the ",),
    "holiday": ("christmas", "xmas", "thanksgiving", "easter", "halloween", "hanukkah", "kwanzaa", "ramadan",
                "eid", "diwali", "passover", "yom", "rosh", "new year", "valentine", "mother", "father",
                "independence", "memorial", "labor", "veterans", "fourth", "patrick"),
    "may-alone": ("may",),
    "year-abbrev": ("'",),
    "season-year": ("spring", "summer", "fall", "autumn", "winter"),
    "weekday-with-date": ("day ", "day,"),
    "day-of-month": ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
}
_NEEDS_DIGIT = frozenset({"ordinal-day", "year-abbrev", "season-year", "weekday-with-date"})


class DateDetector(PhiDetector):
    name = "date"
    kind = "DATE"

    def find(self, text: str) -> Iterator[PhiSpan]:
        digits = anchors.digit_starts(text)
        months = anchors.month_starts(text)
        lower = text.lower()
        for pattern, regex, score in _PATTERNS:
            if pattern in _AT_DIGIT:
                found = anchors.matches_at(regex, text, digits)
            elif pattern in _AT_MONTH:
                found = anchors.matches_at(regex, text, months)
            elif pattern in _NEEDS_DIGIT and not digits or pattern in _NEEDS_MONTH and not months or \
                    pattern in _GATES and not any(word in lower for word in _GATES[pattern]):
                continue
            else:
                found = regex.finditer(text)
            for m in found:
                start, end = _value_span(m)
                if text[end - 1] == ".":
                    end -= 1  # "4th of March." : the sentence's full stop is not part of the date
                if pattern in ("month-day", "month-slash-year", "year") and _is_measure(text, start, end):
                    continue
                if pattern in ("month-day", "month-slash-year") and text[start:end].endswith("/10") and \
                        "date" not in text[max(0, start - 30):start].lower():
                    continue  # 7/10 reads as a rating far more often than July 10th
                if pattern == "month-alone" and _is_abbreviation_word(text, start, end):
                    continue
                yield self.span(start, end, pattern, score)


def _is_measure(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 25):start]
    after = text[end:end + 25]
    return bool(_NOT_DATE_BEFORE.search(before) or _NOT_DATE_AFTER.match(after))


def _is_abbreviation_word(text: str, start: int, end: int) -> bool:
    # "Mar", "Jan", "Dec" are also words or names ("Jan said"): short forms need a digit nearby
    word = text[start:end].rstrip(".")
    if len(word) > 4 or word == "Sept":
        return False
    around = text[max(0, start - 6):end + 8]
    return not re.search(r"\d", around)


def _value_span(m: re.Match[str]) -> tuple[int, int]:
    """The span of group ``v``/``w`` when the pattern has one (context kept out), else the match."""
    for group in ("v", "w"):
        if group in m.re.groupindex and m.start(group) >= 0:
            return m.span(group)
    return m.span()
