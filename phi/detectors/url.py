"""URLs: with a scheme, with www., and bare domains with a known top-level domain."""
from __future__ import annotations

import re

from .base import Pattern, PatternDetector, holds

_TLDS = ("com|org|net|edu|gov|mil|int|info|biz|io|co|us|uk|ca|au|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|"
         "pl|cz|pt|ie|nz|in|jp|cn|br|mx|ru|hu|gr|ro|ee|lv|lt|cy|sk|si|hr|is|za|me|tv|ly|app|dev|health|"
         "care|clinic|online|site|xyz|ai")
_SCHEME = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'()]+", re.IGNORECASE)
_WWW = re.compile(r"\bwww\.[^\s<>\"'()]+", re.IGNORECASE)
_BARE = re.compile(r"\b(?<![@\w.])(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+(?:" + _TLDS + r")\b"
                   r"(?:/[^\s<>\"'()]*)?", re.IGNORECASE)
_TRAILING = ".,;:!?"  # the sentence's punctuation, not the URL's


def _looks_like_abbreviation(text: str, start: int, end: int) -> bool:
    # "e.g.", "i.e", "a.m.", "No.in" are not domains: a real label has 2+ characters
    candidate = text[start:end]
    labels = candidate.split("/")[0].split(".")
    return any(len(label) < 2 for label in labels[:-1]) or candidate[0].isdigit() and candidate.count(".") == 1


class UrlDetector(PatternDetector):
    name = "url"
    kind = "URL"
    patterns = (
        Pattern("scheme", _SCHEME, needs=("://",), trim=_TRAILING),
        Pattern("www", _WWW, needs=holds(r"www\.", re.IGNORECASE), trim=_TRAILING),
        Pattern("bare-domain", _BARE, 0.8, needs=holds(r"\.(?:" + _TLDS + r")\b", re.IGNORECASE),
                trim=_TRAILING, invalidate=_looks_like_abbreviation),
    )

    def applies(self, text: str) -> bool:
        return "." in text or "://" in text
