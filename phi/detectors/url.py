"""URLs: with a scheme, with www., and bare domains with a known top-level domain."""
from __future__ import annotations

import re
from typing import Iterator

from ..adapter import PhiDetector
from ..spans import PhiSpan

_TLDS = ("com|org|net|edu|gov|mil|int|info|biz|io|co|us|uk|ca|au|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|"
         "pl|cz|pt|ie|nz|in|jp|cn|br|mx|ru|hu|gr|ro|ee|lv|lt|cy|sk|si|hr|is|za|me|tv|ly|app|dev|health|"
         "care|clinic|online|site|xyz|ai")
_SCHEME = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'()]+", re.IGNORECASE)
_WWW = re.compile(r"\bwww\.[^\s<>\"'()]+", re.IGNORECASE)
_BARE = re.compile(r"\b(?<![@\w.])(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+(?:%s)\b(?:/[^\s<>\"'()]*)?" % _TLDS,
                   re.IGNORECASE)
_TRAILING = ".,;:!?"


class UrlDetector(PhiDetector):
    name = "url"
    kind = "URL"

    def find(self, text: str) -> Iterator[PhiSpan]:
        if "." not in text and "://" not in text:
            return
        for pattern, regex in (("scheme", _SCHEME), ("www", _WWW), ("bare-domain", _BARE)):
            for m in regex.finditer(text):
                end = m.end()
                while end > m.start() and text[end - 1] in _TRAILING:
                    end -= 1
                if pattern == "bare-domain" and _looks_like_abbreviation(text[m.start():end]):
                    continue
                if end > m.start():
                    yield self.span(m.start(), end, pattern, 1.0 if pattern != "bare-domain" else 0.8)


def _looks_like_abbreviation(candidate: str) -> bool:
    # "e.g.", "i.e", "a.m.", "No.in" are not domains: a real label has 2+ characters
    labels = candidate.split("/")[0].split(".")
    return any(len(label) < 2 for label in labels[:-1]) or candidate[0].isdigit() and candidate.count(".") == 1
