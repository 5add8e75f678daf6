"""Shared per-text pre-scans, so that detectors test their patterns only where they can match.

Most patterns start at a digit run or at a month name; matching them at those few positions
(``pattern.match(text, pos)``) instead of scanning every character is what keeps the scrubber
above 500 documents/s per core. The last few texts are cached: every detector asks for the same one.

An IGNORECASE regex tries every position the slow way (no literal or character-set prefix to jump
to); its case-sensitive twin (``lowered_twin``) on the lower-cased text finds the same matches at
the same offsets when the text is ASCII (``folded`` picks which to run).
"""
from __future__ import annotations

import re
from functools import cache, lru_cache

_DIGIT_RUN = re.compile(r"\d+")
# "(?<![^\W\d_])jan" written "j(?<![^\W\d_].)an": no letter before the word either way, but each
# alternative begins with its letter, so that re jumps to those letters (see boundary_after_first_letter)
_MONTH_WORD = re.compile("|".join(month[0] + r"(?<![^\W\d_].)" + month[1:] for month in (
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")), re.IGNORECASE)

# What would make a case-sensitive match on lower-cased text differ from the IGNORECASE one:
# capitals (a class like [A-Z]; group names aside), a group that turns IGNORECASE off, a
# character given by its code, the non-ASCII letters that match i, k or s when case is ignored
# (ı İ ſ K) and a range that holds capitals or reaches those letters (read conservatively: any
# "x-y" in the pattern counts as a range).
_ESCAPE_OR_GROUP_NAME = re.compile(r"\\[^xuUN0]|\(\?P[<=]\w+>?")
_CASE_SENSITIVE_PART = re.compile(r"[A-Z]|\(\?[a-zA-Z]*-|\\|[\u0130\u0131\u017f\u212a]")
_RANGE = re.compile(r"(?=(.)-(.))", re.DOTALL)


@cache
def lowered_twin(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """``regex`` without IGNORECASE, when it finds on lower-cased ASCII text exactly what ``regex``
    finds on the text; None when ``regex`` is case-sensitive or may tell case apart (made once
    per regex)."""
    if not regex.flags & re.IGNORECASE:
        return None
    source = _ESCAPE_OR_GROUP_NAME.sub("", regex.pattern)
    if _CASE_SENSITIVE_PART.search(source) or any(
            low <= "Z" and high >= "A" or high >= "\u0130" for low, high in _RANGE.findall(source)):
        return None
    return re.compile(regex.pattern, regex.flags & ~re.IGNORECASE)


def folded(regex: re.Pattern[str], twin: re.Pattern[str] | None, text: str) -> tuple[re.Pattern[str], str]:
    """The regex and string to scan: ``twin`` on the lower-cased text when there is one and the text
    is ASCII (lower-casing keeps every offset), else ``regex`` on the text."""
    if twin is not None and text.isascii():
        return twin, lower(text)
    return regex, text


_MONTH_TWIN = lowered_twin(_MONTH_WORD)
_WORD_START = re.compile(r"\\b([a-z])")


def boundary_after_first_letter(source: str) -> str:
    """``\\bbp`` written ``b(?<!\\w\\w)p``: the same matches (before a letter, a boundary means no word
    character before it), but each alternative of a long list now begins with its letter, which
    ``re`` compares before trying the alternative at all (case-sensitive regexes only: the twins)."""
    return _WORD_START.sub(r"\1(?<!\\w\\w)", source)


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
    regex, string = folded(_MONTH_WORD, _MONTH_TWIN, text)
    return tuple(m.start() for m in regex.finditer(string))


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
