"""The one context policy: what the detectors may look at around a match.

Every detector sees the same window: the ``WINDOW`` characters before a match (``before``) and,
for the few checks that read on, the ``WINDOW`` characters after it (``after``). Two uses:
- context words: a detector's words anywhere in the window before the match (``has_context``);
  words are runs of ``[a-z#]`` in the lower-cased window, so a word cut by the window's edge
  counts only by the part inside it ("ssn#" is a word, "SSN:" gives "ssn");
- labels: a regex that must end right where the match begins ("MRN: ", "BP ") or start right
  where it ends ("mg", "said"), looked for inside that same window (``label_before``,
  ``label_after``).
Detectors declare their words and labels and look around a match only through this module. (What
a pattern matches may still reach past the window: a street's house number and name are part of
the address, and an adjacent character can be part of a pattern's shape, like a ``\b``.)
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from . import anchors

WINDOW = 30  # characters, before (and after) a match, for every detector

_WORD = re.compile(r"[a-z#]+")


def before(text: str, start: int) -> str:
    """The window left of ``start``."""
    return text[max(0, start - WINDOW):start]


def after(text: str, end: int) -> str:
    """The window right of ``end``."""
    return text[end:end + WINDOW]


def window_words(text: str, start: int) -> set[str]:
    """Lower-case words in the window before ``start``."""
    return set(_WORD.findall(before(text, start).lower()))


def has_context(text: str, start: int, words: Iterable[str]) -> bool:
    """One of ``words`` is in the window before ``start``."""
    found = window_words(text, start)
    return any(w in found for w in words)


def label_before(label: re.Pattern[str], text: str, start: int) -> re.Match[str] | None:
    """``label`` (a regex ending in ``$``) in the window before ``start``, ending at ``start``.

    Searched in place (``pos``/``endpos``), so a ``\\b`` or lookbehind at the window's edge sees
    the real text; a plain ASCII text by the label's twin (``anchors.folded``: same offsets, but the
    match's string may be the lower-cased text)."""
    regex, string = anchors.folded(label, text)
    return regex.search(string, max(0, start - WINDOW), start)


def label_after(label: re.Pattern[str], text: str, end: int) -> re.Match[str] | None:
    """``label`` matched from ``end`` on, within the window after it (no ``^``: it starts at ``end``);
    in lower case like ``label_before``."""
    regex, string = anchors.folded(label, text)
    return regex.match(string, end, end + WINDOW)
