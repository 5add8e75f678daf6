"""E-mail addresses, written out or spelled to dodge spam filters."""
from __future__ import annotations

import re

from .base import Pattern, PatternDetector, holds

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}\b")
# "name at gmail dot com": how people dodge spam filters in journals
_SPELLED = re.compile(r"\b[\w.\-]+\s*(?:\(at\)|\[at\]| at )\s*[\w\-]+\s*(?:\.|\(dot\)|\[dot\]| dot )\s*"
                      r"(?:com|org|net|edu|gov)\b", re.IGNORECASE)


class EmailDetector(PatternDetector):
    name = "email"
    kind = "EMAIL"
    patterns = (
        Pattern("email", _EMAIL, needs=("@",)),
        Pattern("spelled-out", _SPELLED, 0.8, needs=holds(
            r"(?:\(at\)|\[at\]| at )\s*[\w\-]+\s*(?:\.|\(dot\)|\[dot\]| dot )\s*(?:com|org|net|edu|gov)\b",
            re.IGNORECASE, words=("(at)", "[at]", " at "), heads=("(at)", "[at]", " at "))),
    )
