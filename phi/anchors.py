"""Shared per-text pre-scans, so that detectors test their patterns only where they can match.

Most patterns start at a digit run or at a month name; matching them at those few positions
(``pattern.match(text, pos)``) instead of scanning every character is what keeps the scrubber
above 500 documents/s per core. The last few texts are cached: every detector asks for the same one.
"""
from __future__ import annotations

import re
from functools import lru_cache

_DIGIT_RUN = re.compile(r"\d+")
_MONTH_WORD = re.compile(r"(?<![^\W\d_])(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.IGNORECASE)


@lru_cache(maxsize=8)
def lower(text: str) -> str:
    """The text in lower case, for the substring gates of every detector."""
    return text.lower()


@lru_cache(maxsize=8)
def digit_starts(text: str) -> tuple[int, ...]:
    """Start offsets of every run of digits."""
    return tuple(m.start() for m in _DIGIT_RUN.finditer(text))


@lru_cache(maxsize=8)
def month_starts(text: str) -> tuple[int, ...]:
    """Start offsets of words that begin like a month name (March, mar, Sept...)."""
    return tuple(m.start() for m in _MONTH_WORD.finditer(text))


def matches_at(pattern: re.Pattern[str], text: str, starts: tuple[int, ...]) -> list[re.Match[str]]:
    """Non-overlapping matches of ``pattern`` that begin at one of ``starts``."""
    found = []
    last_end = -1
    for pos in starts:
        if pos < last_end:
            continue
        m = pattern.match(text, pos)
        if m and m.end() > m.start():
            found.append(m)
            last_end = m.end()
    return found
