"""Shared per-text pre-scans, so that detectors test their patterns only where they can match.

Most patterns start at a digit run or at a month name; matching them at those few positions
(``pattern.match(text, pos)``) instead of scanning every character is what keeps the scrubber
above 500 documents/s per core. The last few texts are cached: every detector asks for the same one.

On a plain ASCII text (``plain_ascii``) every regex runs as its twin (``folded``): compiled with
``re.ASCII``, whose classes (\\w, \\d, [^\\W\\d_]) are table look-ups instead of Unicode ones, and, for
an IGNORECASE regex that cannot tell case apart, without IGNORECASE on the lower-cased text:
re's case-insensitive scan has no literal or character-set prefix to jump to and no fast test of
an alternative's first letter. Same matches at the same offsets, about twice as fast.
"""
from __future__ import annotations

import re
from functools import lru_cache

_DIGIT_RUN = re.compile(r"\d+")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# "(?<![^\W\d_])jan" written "j(?<![^\W\d_].)an": no letter before the word either way, but each
# alternative begins with its letter, so that re jumps to those letters (see boundary_after_first_letter)
_MONTH_WORD = re.compile("|".join(month[0] + r"(?<![^\W\d_].)" + month[1:] for month in _MONTHS), re.IGNORECASE)

# Where a twin could differ. re.ASCII: \\s leaves out the separators \\x1c-\\x1f (so a plain ASCII
# text has none), and ignoring case no longer matches i, k, s to ı İ, K, ſ (so a regex that ignores
# case must hold none of them: by code, as a letter or inside a range reaching them). Lower-cased
# text without IGNORECASE: nothing may ask for a capital (a class like [A-Z], a range over capitals,
# a group that turns IGNORECASE off); group names and escapes aside.
_SEPARATORS = ("\x1c", "\x1d", "\x1e", "\x1f")
_ESCAPE_OR_GROUP_NAME = re.compile(r"\\[^xuUN0]|\(\?P[<=]\w+>?")
_FOLDS_ONTO_ASCII = re.compile(r"\\|[\u0130\u0131\u017f\u212a]")
_ASKS_FOR_CAPITALS = re.compile(r"[A-Z]|\(\?[a-zA-Z]*-")
_RANGE = re.compile(r"(?=(.)-(.))", re.DOTALL)
_TWINS: dict[int, tuple[re.Pattern[str], re.Pattern[str], bool]] = {}


@lru_cache(maxsize=8)
def plain_ascii(text: str) -> bool:
    """ASCII without the separators \\x1c-\\x1f: a text on which every twin finds what its regex finds."""
    # four substring tests: a regex of their class reads the text a character at a time (~50x slower)
    return text.isascii() and not any(separator in text for separator in _SEPARATORS)


def twin(regex: re.Pattern[str]) -> tuple[re.Pattern[str], bool]:
    """The twin of ``regex`` for plain ASCII text, and whether it runs on the lower-cased text; made
    once per regex (keyed by identity: hashing a compiled regex hashes its whole program)."""
    entry = _TWINS.get(id(regex))
    if entry is None or entry[0] is not regex:
        entry = _TWINS[id(regex)] = (regex, *_make_twin(regex))
    return entry[1], entry[2]


def _make_twin(regex: re.Pattern[str]) -> tuple[re.Pattern[str], bool]:
    source = _ESCAPE_OR_GROUP_NAME.sub("", regex.pattern)
    ranges = _RANGE.findall(source)
    ignores_case = bool(regex.flags & re.IGNORECASE) or "(?i" in regex.pattern
    if ignores_case and (_FOLDS_ONTO_ASCII.search(source) or any(high >= "\u0130" for _, high in ranges)):
        return regex, False
    flags = regex.flags & ~re.UNICODE | re.ASCII
    if regex.flags & re.IGNORECASE and not _ASKS_FOR_CAPITALS.search(source) and \
            not any(low <= "Z" and high >= "A" for low, high in ranges):
        return re.compile(regex.pattern, flags & ~re.IGNORECASE), True
    return re.compile(regex.pattern, flags), False


def folded(regex: re.Pattern[str], text: str) -> tuple[re.Pattern[str], str]:
    """The regex and string to scan: on a plain ASCII text the twin, on the lower-cased text when it
    is a lowered one (lower-casing ASCII keeps every offset); else ``regex`` on the text."""
    if plain_ascii(text):
        scan, lowered = twin(regex)
        return scan, lower(text) if lowered else text
    return regex, text


_WORD_START = re.compile(r"\\b([a-z])")


def boundary_after_first_letter(source: str) -> str:
    """``\\bbp`` written ``b(?<!\\w\\w)p``: the same matches (before a letter, a boundary means no word
    character before it), but each alternative of a long list now begins with its letter, which
    ``re`` compares before trying the alternative at all (case-sensitive regexes only: lowered twins)."""
    return _WORD_START.sub(r"\1(?<!\\w\\w)", source)


@lru_cache(maxsize=8)
def lower(text: str) -> str:
    """The text in lower case, for the substring gates of every detector."""
    return text.lower()


@lru_cache(maxsize=8)
def digit_starts(text: str) -> tuple[int, ...]:
    """Start offsets of every run of digits."""
    regex, string = folded(_DIGIT_RUN, text)
    return tuple(m.start() for m in regex.finditer(string))


@lru_cache(maxsize=8)
def month_starts(text: str) -> tuple[int, ...]:
    """Start offsets of words that begin like a month name (March, mar, Sept...). On a plain ASCII text
    each month's three letters are found by str.find in the lower-cased text (the letters a, s, o, n,
    d that begin months are everywhere, so a regex stops almost everywhere); a start needs no letter
    before it. Two starts never overlap (each is three letters with no letter before), so this finds
    what the regex finds."""
    if not plain_ascii(text):
        return tuple(m.start() for m in _MONTH_WORD.finditer(text))
    lower_text = lower(text)
    starts = []
    for month in _MONTHS:
        pos = lower_text.find(month)
        while pos >= 0:
            if not (pos and lower_text[pos - 1].isalpha()):
                starts.append(pos)
            pos = lower_text.find(month, pos + 1)
    return tuple(sorted(starts))


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
