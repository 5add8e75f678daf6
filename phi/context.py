"""Context words: a few words near a candidate raise (or are required for) a hit.

Detectors declare their words; this module is the one place that looks around a match.
"""
from __future__ import annotations

import re
from typing import Iterable

_WORD = re.compile(r"[a-z#]+")


def window_words(text: str, start: int, end: int, before: int = 40, after: int = 0) -> set[str]:
    """Lower-case words in ``before`` characters left of start and ``after`` right of end."""
    left = text[max(0, start - before):start].lower()
    right = text[end:end + after].lower() if after else ""
    return set(_WORD.findall(left)) | set(_WORD.findall(right))


def has_context(text: str, start: int, end: int, words: Iterable[str],
                before: int = 40, after: int = 0) -> bool:
    found = window_words(text, start, end, before, after)
    return any(w in found for w in words)

