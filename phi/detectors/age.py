"""Ages over 89 (HIPAA: younger ages are not identifiers)."""
from __future__ import annotations

import re
from typing import Iterator

from ..adapter import PhiDetector
from ..spans import PhiSpan

_OLD = r"(?P<v>(?:9\d|1[0-2]\d)(?:\.\d)?)"
_OLD_NUMBER = re.compile(r"(?<!\d)(?:9\d|1[0-2]\d)(?!\d|,\d|\.\d\d)")
_OLD_WORD = re.compile(r"nonagenarian|centenarian|nineties|90s|100s|ninety|hundred", re.IGNORECASE)
_AROUND_NUMBER = frozenset({"years-old", "age-word", "person-is"})
_PATTERNS = [
    ("years-old", re.compile(_OLD + r"\s*[\-\s]?\s*(?:years?|yrs?|y)[\-\s]*(?:old|of\s+age)?\b|" + _OLD.replace("v", "w")
                             + r"\s*(?:yo|y/o|y\.o\.?|yrs?\.?)(?!\w)", re.IGNORECASE)),
    ("age-word", re.compile(r"\b(?:age|aged|ages|age:|turned|turning|turns)\s*:?\s*" + _OLD + r"\b", re.IGNORECASE)),
    ("decade", re.compile(r"\b(?:in\s+(?:his|her|their)\s+)(?P<v>(?:late\s+|mid\s+)?(?:nineties|90s|100s))\b",
                          re.IGNORECASE)),
    ("person-is", re.compile(r"\b(?:grandpa|grandma|grandmother|grandfather|granny|nana|papa|mom|mother|dad|"
                             r"father|he|she|patient|pt|aunt|uncle|husband|wife|who)\s+(?:is|was|just\s+turned|"
                             r"will\s+be|is\s+now|turned)\s+" + _OLD + r"\b(?!\s*(?:%|percent|pounds|lbs|kg|min|"
                             r"minutes|days|degrees|°|mg|miles|km|feet))", re.IGNORECASE)),
    ("spelled", re.compile(r"\b(?P<v>(?:ninety|one\s+hundred)(?:[\-\s](?:and[\-\s])?(?:one|two|three|four|five|six|"
                           r"seven|eight|nine|ten|eleven|twelve))?)[\-\s]+(?:years?|yrs?)[\-\s]*(?:old|of\s+age)\b",
                           re.IGNORECASE)),
    ("word", re.compile(r"\b(?P<v>nonagenarian|centenarian)\b", re.IGNORECASE)),
]


class AgeDetector(PhiDetector):
    name = "age"
    kind = "AGE"

    def find(self, text: str) -> Iterator[PhiSpan]:
        numbers = [m.start() for m in _OLD_NUMBER.finditer(text)]
        has_words = bool(_OLD_WORD.search(text))
        if not numbers and not has_words:
            return  # no number from 90 to 129 and no "ninety": nothing to find
        for pattern, regex in _PATTERNS:
            if pattern in _AROUND_NUMBER:
                # the number ends these patterns or starts them: look only around each such number
                for pos in numbers:
                    for m in regex.finditer(text, max(0, pos - 45), min(len(text), pos + 30)):
                        if m.start("v") <= pos < m.end("v") or m.start("v") == -1:
                            group = "v" if m.start("v") >= 0 else "w"
                            yield self.span(*m.span(group), pattern)
            elif has_words:
                for m in regex.finditer(text):
                    group = "v" if m.start("v") >= 0 else "w"
                    yield self.span(*m.span(group), pattern)
