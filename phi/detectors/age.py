"""Ages over 89 (HIPAA: younger ages are not identifiers)."""
from __future__ import annotations

import re
from collections.abc import Iterator

from .. import anchors
from ..context import WINDOW
from ..spans import PhiSpan
from .base import Pattern, PatternDetector, holds, value_span

_OLD = r"(?P<v>(?:9\d|1[0-2]\d)(?:\.\d)?)"
# (?<!\d) checked after the first digit, "9(?<!\d\d)": the same numbers, but re jumps to 9s and 1s
_OLD_NUMBER = re.compile(r"(?:9(?<!\d\d)\d|1(?<!\d\d)[0-2]\d)(?!\d|,\d|\.\d\d)")
_OLD_WORDS = ("nonagenarian", "centenarian", "nineties", "90s", "100s", "ninety", "hundred")
_YEARS_OLD = re.compile(_OLD + r"\s*[\-\s]?\s*(?:years?|yrs?|y)[\-\s]*(?:old|of\s+age)?\b|" + _OLD.replace("v", "w")
                        + r"\s*(?:yo|y/o|y\.o\.?|yrs?\.?)(?!\w)", re.IGNORECASE)
_AGE_WORD = re.compile(r"\b(?:age|aged|ages|age:|turned|turning|turns)\s*:?\s*" + _OLD + r"\b", re.IGNORECASE)
_DECADE = re.compile(r"\b(?:in\s+(?:his|her|their)\s+)(?P<v>(?:late\s+|mid\s+)?(?:nineties|90s|100s))\b",
                     re.IGNORECASE)
_PERSON_IS = re.compile(r"\b(?:grandpa|grandma|grandmother|grandfather|granny|nana|papa|mom|mother|dad|"
                        r"father|he|she|patient|pt|aunt|uncle|husband|wife|who)\s+(?:is|was|just\s+turned|"
                        r"will\s+be|is\s+now|turned)\s+" + _OLD + r"\b(?!\s*(?:%|percent|pounds|lbs|kg|min|"
                        r"minutes|days|degrees|°|mg|miles|km|feet))", re.IGNORECASE)
_SPELLED = re.compile(r"\b(?P<v>(?:ninety|one\s+hundred)(?:[\-\s](?:and[\-\s])?(?:one|two|three|four|five|six|"
                      r"seven|eight|nine|ten|eleven|twelve))?)[\-\s]+(?:years?|yrs?)[\-\s]*(?:old|of\s+age)\b",
                      re.IGNORECASE)
_WORD = re.compile(r"\b(?P<v>nonagenarian|centenarian)\b", re.IGNORECASE)


class AgeDetector(PatternDetector):
    """Word patterns run as declared; number patterns are tried only in the window around each
    number from 90 to 129 (the number ends or starts them) and keep the hits that hold it."""

    name = "age"
    kind = "AGE"
    patterns = (
        Pattern("decade", _DECADE, needs=holds(r"(?:his|her|their)\s+(?:late\s+|mid\s+)?(?:nineties|90s|100s)", re.IGNORECASE,
                                            _OLD_WORDS, lead=r"\s", heads=("his", "her", "their"))),
        Pattern("spelled", _SPELLED, needs=holds(r"(?:years?|yrs?)[\-\s]*(?:old|of\s+age)", re.IGNORECASE, _OLD_WORDS,
                                              lead=r"[\-\s]")),
        Pattern("word", _WORD, needs=holds(r"nonagenarian|centenarian", re.IGNORECASE, _OLD_WORDS,
                                        heads=("nonagenarian", "centenarian"))),
    )
    around_number = (
        Pattern("years-old", _YEARS_OLD),
        Pattern("age-word", _AGE_WORD),
        Pattern("person-is", _PERSON_IS),
    )

    def find(self, text: str) -> Iterator[PhiSpan]:
        scan, string = anchors.folded(_OLD_NUMBER, text)
        numbers = [m.start() for m in scan.finditer(string)]
        for p in self.around_number:
            scan, string = anchors.folded(p.regex, text)
            for pos in numbers:
                for m in scan.finditer(string, max(0, pos - WINDOW), min(len(text), pos + WINDOW)):
                    if m.start("v") <= pos < m.end("v") or m.start("v") == -1:
                        yield self.span(*value_span(m), p.name, p.score)
        yield from super().find(text)
