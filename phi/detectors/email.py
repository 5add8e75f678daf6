"""E-mail addresses."""
from __future__ import annotations

import re
from typing import Iterator

from ..adapter import PhiDetector
from ..spans import PhiSpan

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}\b")
# "name at gmail dot com": how people dodge spam filters in journals
_SPELLED = re.compile(r"\b[\w.\-]+\s*(?:\(at\)|\[at\]| at )\s*[\w\-]+\s*(?:\.|\(dot\)|\[dot\]| dot )\s*(?:com|org|net|edu|gov)\b",
                      re.IGNORECASE)


class EmailDetector(PhiDetector):
    name = "email"
    kind = "EMAIL"

    def find(self, text: str) -> Iterator[PhiSpan]:
        if "@" in text:
            for m in _EMAIL.finditer(text):
                yield self.span(m.start(), m.end(), "email")
        for m in _SPELLED.finditer(text):
            yield self.span(m.start(), m.end(), "spelled-out", 0.8)
