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
from functools import lru_cache

from .. import anchors
from ..context import before, label_after, label_before
from .base import Pattern, PatternDetector, holds, literal_heads

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_MONTH_DOT = _MONTH + r"\.?"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_YEAR_ANY = r"(?:'?\d{2}|1[89]\d\d|20\d\d)"
_TIME = r"(?:[ T,]+(?:at\s+)?\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:\s*[ap]\.?m\.?)?)?"

_FLAGS = re.IGNORECASE
_ISO = re.compile(r"(?<![\d\-/.])" + _YEAR + r"[\-/.](?:0?[1-9]|1[0-2])[\-/.](?:0?[1-9]|[12]\d|3[01])" + _TIME
                  + r"(?![\d\-/])")
_NUMERIC = re.compile(r"(?<![\d\-/.:])(?:0?[1-9]|[12]\d|3[01])([/\-.])(?:0?[1-9]|[12]\d|3[01])\1(?:\d{4}|\d{2})"
                      + _TIME + r"(?![\d/\-]|\.\d)")
_DAY_MON_YEAR = re.compile(r"(?<![\w\-])" + _DAY + r"[\- ]" + _MONTH_DOT + r"[\- ,]+" + _YEAR_ANY + r"(?![\w\-])",
                           _FLAGS)
_MONTH_DAY_YEAR = re.compile(r"\b" + _MONTH_DOT + r"\s+(?:the\s+)?" + _DAY + r"(?:,?\s*" + _YEAR + r")?\b" + _TIME,
                             _FLAGS)
_DAY_OF_MONTH = re.compile(r"\b(?:the\s+)?" + _DAY + r"\s+(?:of\s+)?" + _MONTH_DOT + r"(?:,?\s*" + _YEAR + r")?\b",
                           _FLAGS)
_MONTH_YEAR = re.compile(r"\b" + _MONTH_DOT + r",?\s+(?:of\s+)?" + _YEAR_ANY + r"\b", _FLAGS)
_MONTH_SLASH_YEAR = re.compile(r"(?<![\d/\-.])(?:0?[1-9]|1[0-2])/(?:" + _YEAR + r"|\d{2})(?![\d/])")
_MONTH_DAY = re.compile(r"(?<![\d/\-.:,])(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])(?![\d/%]|\.\d)")
_ORDINAL_DAY = re.compile(r"\bthe\s+(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)\b(?!\s+(?:"
                          r"floor|grade|time|times|dose|doses|day|days|week|weeks|month|months|year|"
                          r"cycle|attempt|visit|session|percentile|place|birthday|street|st|avenue|ave)\b)", _FLAGS)
_HOLIDAYS = ("christmas", "xmas", "thanksgiving", "easter", "halloween", "hanukkah", "kwanzaa", "ramadan", "eid",
             "diwali", "passover", "yom", "rosh", "new year", "valentine", "mother", "father", "independence",
             "memorial", "labor", "veterans", "fourth", "patrick")
_HOLIDAY_NAMES = (
    r"Christmas(?:\s+Eve|\s+Day)?", r"Xmas", r"Thanksgiving", r"Easter", r"Halloween", r"Hanukkah", r"Kwanzaa", r"Ramadan",
    r"Eid", r"Diwali", r"Passover", r"Yom\s+Kippur", r"Rosh\s+Hashanah", r"New\s+Year'?s(?:\s+Eve|\s+Day)?",
    r"Valentine'?s\s+Day", r"Mother'?s\s+Day", r"Father'?s\s+Day", r"Independence\s+Day", r"Memorial\s+Day",
    r"Labor\s+Day", r"Veterans\s+Day", r"Fourth\s+of\s+July", r"St\.?\s+Patrick'?s\s+Day")
_HOLIDAY_YEAR = r"(?:,?\s+(?:of\s+)?" + _YEAR_ANY + r")?\b"
_HOLIDAY = re.compile(r"\b(?:" + "|".join(_HOLIDAY_NAMES) + ")" + _HOLIDAY_YEAR)
_MONTH_ALONE = re.compile(r"\b(?:January|February|March|April|June|July|August|September|October|"
                          r"November|December|Jan|Feb|Aug|Sept|Oct|Nov|Dec)\b\.?")
_MAY_ALONE = re.compile(r"\b(?i:in|of|since|until|till|early|late|mid|last|next|this|by)\s+(?P<v>May)\b"
                        r"|\b(?P<w>May)(?=\s+(?:and|or|through|to)\s+(?:June|April))")
_WEEKDAY_WITH_DATE = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+(?:the\s+(?:[12]\d|3[01]|0?[1-9])"
                                r"(?:st|nd|rd|th)\b|\d{1,2}/\d{1,2}\b|" + _MONTH_DOT + r"\s+\d{1,2})", _FLAGS)
_YEAR_ALONE = re.compile(r"(?<![\d$#.,\-/])(?:19[0-9]\d|20[0-4]\d)(?![\d%]|\.\d|,\d|\s*(?:mg|mcg|ml|cc|kcal|"
                         r"calories|units|iu|steps|dollars|usd|people|patients|miles|km|feet|ft|lbs|kg|g|words|"
                         r"times)\b)", _FLAGS)
_YEAR_ABBREV = re.compile(r"\b(?:in|since|of|from|until|class)\s+(?P<v>'\d{2})\b", _FLAGS)
_SEASON_YEAR = re.compile(r"\b(?:spring|summer|fall|autumn|winter)\s+(?:of\s+)?" + _YEAR_ANY + r"\b", _FLAGS)

# words near an m/d or a bare number that make it a score, a ratio or a pressure, not a date
_MEASURE_BEFORE = re.compile(anchors.boundary_after_first_letter(
    r"(?:\bbp|blood pressure|pressure|\bscore[sd]?|\brated?|rating|\bpain|\bscale|strength|out of|phq|gad|"
    r"reflex(?:es)?|motor|ratio|\bdose|\bmg|\btabs?|\bsats?|spo2|\bo2|\bhr|pulse|\bvs|vitals|\bgcs|moca|mmse|"
    r"\bpcl|\bbdi|\bcssrs|\baudit|\bdast|\bgrade|\bi:e|\bx|\bhgb|\bwbc|\bplt|\bna|\bk|"
    # ventilator settings, blood gases and haemodynamics: "CPAP 5/5", "PS 10/5", "ABG 7.41/38/92"
    r"\bcpap|\bpeep|\bpsv?|\bpcv?|\ba/?c|\bsimv|\bimv|\bprvc|\baprv|\bipap|\bepap|bipap|\bvent|settings?|"
    r"\bfio2?|\bvt|\btv|\brr|\babgs?|\bvbg|\bgas(?:es)?|\bph|\bpa?o2|\bpa?co2|\bmap|\bcvp|\bpap|\bpas|\bnbp|"
    r"\babp|\bart|\bsbp|\btmax|\bpip|\bplat|\bpeak|\brsbi|\bi/o|\bi&o|\bci|\bsvr|\d\s*x)\W{0,3}(?:of\s+|was\s+|is\s+|at\s+|"
    r"=\s*|:\s*)?$"), re.IGNORECASE)
_MEASURE_AFTER = re.compile(r"\s*(?:mmhg|strength|mg|mcg|ml|tabs?|tablets?|pills?|of\s+(?:the|a|my|his|her|them|"
                            r"those|these|\d)|pain|on the|scale|\+|cups?|doses?|ppd|packs?|oz|times|x\b|bpm|score|"
                            r"points?|days?\s+(?:a|per)|hours?|hrs?|nights?|weeks?\s+(?:a|per)|servings?|drinks?|beers?)",
                            re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_DATE_WORD_BEFORE = re.compile(r"\b(?:on|since|until|till|dated|as\s+of)\s+$", re.IGNORECASE)
_TWO_DIGIT_YEAR_END = re.compile(r"[/\-.]\d{2}$")
_PERCENT_AFTER = re.compile(r"\s*%|/")
_CLOCK = re.compile(r"(?:[01]\d|2[0-3])[0-5]\d")
_CLOCK_BEFORE = re.compile(r"[@~]\s*$|\b(?:at|until|till|around|approx)\s+$", re.IGNORECASE)
_CLOCK_AFTER = re.compile(r"\s*(?:hrs?|h|hours)\b|\s*(?:-|–|to)\s*0\d{3}\b|"
                          r"\s*(?:-|–|to)\s*(?:[01]\d|2[0-3])[03]0\b(?!\s*(?:-|/)\d)", re.IGNORECASE)
# a two-digit year after an event or procedure: "MI 88", "CABG '97", "CVA 79", "sober since 74"
_EVENT_WORDS = frozenset(
    "mi nstemi stemi cabg cva pci ptca avr mvr tavr tkr thr tka tha tia dvt stroke stent stented stents appy "
    "appendectomy chole cholecystectomy hysterectomy lobectomy colectomy mastectomy nephrectomy icd aicd ppm "
    "pacemaker bypass surgery dx dx'd diagnosed orif xrt chemo transplant amputation bka aka cea aaa lap hernia "
    "repair fem-pop ablation cath egd colonoscopy c-section mva hx quit".split())
_TWO_DIGITS = re.compile(r"(?<![\d.,/\-])\d{2}(?![\w%/:'’\-]|\.\d|\s*(?:mg|mcg|ml|cc|units?|mm|cm|x\b|hrs?|min|mins|yo|"
                         r"y/o|years?|yrs?|days?|wks?|weeks?|months?|mos?|times|%|/))", re.IGNORECASE)
# '88, '97: an apostrophe and two digits, not after a digit or letter (5'10") nor before one
_APOSTROPHE_YEAR = re.compile(r"['’](?<![\w'’].)\d{2}(?![\w'’\"”%])")  # the lookbehind after the quote: re jumps to quotes
# "on 14/6", "from 6/14": a short date right after a date word, day or month first
_DATE_WORDS = frozenset(("on", "since", "until", "till", "dated", "from", "thru", "through"))
_SHORT_DATE = re.compile(r"(?<![\d/\-.:,])(?:0?[1-9]|[12]\d|3[01])/(?:0?[1-9]|[12]\d|3[01])(?![\d/%]|\.\d)")
_FULL_STOP = "."  # "4th of March.": the sentence's full stop is not part of the date


def _is_measure(text: str, start: int, end: int) -> bool:
    """A score, a ratio, a pressure or a dose: "BP 120/80", "PHQ-9 of 14", "2/5 strength"."""
    return _measure_before(text, start) or label_after(_MEASURE_AFTER, text, end) is not None


@lru_cache(maxsize=256)
def _measure_before(text: str, start: int) -> bool:
    # the costliest check of all (~0.2 ms: ~90 alternatives tried at each position of the window) and
    # asked about the same number by several patterns: kept for the last few texts
    return label_before(_MEASURE_BEFORE, text, start) is not None


def _is_rating(text: str, start: int, end: int) -> bool:
    """7/10 reads as a rating far more often than July 10th, unless "date" is near: as a word or
    inside one (dated, birthdate, update), so looked for as a substring of the window, or it comes
    right after "on", "since", "until" ("seen on 7/10")."""
    return text.endswith("/10", start, end) and "date" not in before(text, start).lower() and \
        label_before(_DATE_WORD_BEFORE, text, start) is None


def _is_two_digit_year_measure(text: str, start: int, end: int) -> bool:
    """"PS 10/5/40%", "500x14/5/50": a vent setting chain, not 10/5/1940; only for two-digit years."""
    if not _TWO_DIGIT_YEAR_END.search(text, start, end):
        return False
    return label_after(_PERCENT_AFTER, text, end) is not None or _is_measure(text, start, end)


def _is_clock_time(text: str, start: int, end: int) -> bool:
    """"@ 2000", "at 1900", "1900-0700", "2000 hrs": a clock time in a note, not a year."""
    if label_before(_CLOCK_BEFORE, text, start) is not None:
        return True
    if _CLOCK.fullmatch(text, start, end) and label_after(_CLOCK_AFTER, text, end) is not None:
        return True
    return _is_measure(text, start, end)


def _not_a_date(text: str, start: int, end: int) -> bool:
    return _is_measure(text, start, end) or _is_rating(text, start, end)


def _is_abbreviation_word(text: str, start: int, end: int) -> bool:
    """"Mar", "Jan", "Dec" are also words or names ("Jan said"): short forms need a digit right by
    them (part of the shape, like a \\b: 6 characters before, 8 after)."""
    word = text[start:end].rstrip(".")
    if len(word) > 4 or word == "Sept":
        return False
    return not _DIGIT.search(text, max(0, start - 6), end + 8)


def _after_event(text: str, start: int, end: int) -> bool:
    """Right after an event or procedure, or "sober since": "MI 88", "CABG '97", "CVA in 79" (the
    apostrophe is part of the year); the words of the window before it, read from its end."""
    window = before(text, start)
    if window.endswith(("'", "’")):
        window = window[:-1]
    if not window[-1:].isspace():
        return False
    words = window.lower().split()
    if len(words) > 1 and words[-1] in ("in", "of"):
        words.pop()
    if not words:
        return False
    return words[-1] in _EVENT_WORDS or len(words) > 1 and words[-2:] == ["sober", "since"]


def _short_date_ok(text: str, start: int, end: int) -> bool:
    """Right after a date word, a real day and month, either way round, that no rating or measure explains."""
    window = before(text, start)
    words = window.split()
    if not window[-1:].isspace() or not words or words[-1].lower() not in _DATE_WORDS:
        return False
    a, b = (int(x) for x in text[start:end].split("/"))
    if not (a <= 12 or b <= 12) or _is_measure(text, start, end):
        return False
    return not (b == 10 and label_before(_DATE_WORD_BEFORE, text, start) is None)


def _with_apostrophe(text: str, start: int, end: int) -> tuple[int, int]:
    return (start - 1, end) if start and text[start - 1] in "'’" else (start, end)


def _has_month(text: str) -> bool:
    return bool(anchors.month_starts(text))


# patterns that can only begin at a digit run or at a month name are tried there alone (anchors.py)
_AT_DIGIT = anchors.digit_starts
_AT_MONTH = anchors.month_starts


class DateDetector(PatternDetector):
    name = "date"
    kind = "DATE"
    patterns = (
        Pattern("iso", _ISO, at=_AT_DIGIT, trim=_FULL_STOP),
        Pattern("numeric", _NUMERIC, at=_AT_DIGIT, trim=_FULL_STOP, invalidate=_is_two_digit_year_measure),
        Pattern("day-mon-year", _DAY_MON_YEAR, at=_AT_DIGIT, trim=_FULL_STOP),
        Pattern("month-day-year", _MONTH_DAY_YEAR, at=_AT_MONTH, trim=_FULL_STOP),
        Pattern("day-of-month", _DAY_OF_MONTH, needs=holds(r"\d(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH, _FLAGS, test=_has_month),
                trim=_FULL_STOP),
        Pattern("month-year", _MONTH_YEAR, at=_AT_MONTH, trim=_FULL_STOP),
        Pattern("month-slash-year", _MONTH_SLASH_YEAR, 0.7, at=_AT_DIGIT, trim=_FULL_STOP, invalidate=_not_a_date),
        Pattern("month-day", _MONTH_DAY, 0.6, at=_AT_DIGIT, trim=_FULL_STOP, invalidate=_not_a_date),
        Pattern("ordinal-day", _ORDINAL_DAY, 0.8, needs=("the ",), needs_digit=True, trim=_FULL_STOP),
        Pattern("holiday", _HOLIDAY, 0.8,
                needs=holds(_HOLIDAY.pattern[2:], words=_HOLIDAYS, heads=literal_heads(_HOLIDAY_NAMES)),
                trim=_FULL_STOP),
        Pattern("month-alone", _MONTH_ALONE, 0.6, at=_AT_MONTH, trim=_FULL_STOP, invalidate=_is_abbreviation_word),
        Pattern("may-alone", _MAY_ALONE, 0.6, needs=("may",), trim=_FULL_STOP),
        Pattern("weekday-with-date", _WEEKDAY_WITH_DATE, 0.9, needs=("day ", "day,"), needs_digit=True,
                trim=_FULL_STOP),
        Pattern("year", _YEAR_ALONE, 0.7, at=_AT_DIGIT, trim=_FULL_STOP, invalidate=_is_clock_time),
        Pattern("event-year", _TWO_DIGITS, 0.7, at=_AT_DIGIT, validate=_after_event, extend=_with_apostrophe),
        Pattern("apostrophe-year", _APOSTROPHE_YEAR, 0.7, needs=("'", "’"), needs_digit=True),
        Pattern("date-after-word", _SHORT_DATE, 0.7, at=_AT_DIGIT, needs=("/",), validate=_short_date_ok),
        Pattern("year-abbrev", _YEAR_ABBREV, 0.8, needs=holds(r"'\d\d", _FLAGS, ("'",), lead=r"\s"), needs_digit=True,
                trim=_FULL_STOP),
        Pattern("season-year", _SEASON_YEAR, 0.8, needs=("spring", "summer", "fall", "autumn", "winter"),
                needs_digit=True, trim=_FULL_STOP),
    )
