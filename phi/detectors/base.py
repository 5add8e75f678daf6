"""Declared patterns: a detector is a list of named regexes, context words and checks (Presidio's shape).

    class SsnDetector(PatternDetector):
        name, kind = "ssn", "SSN"
        context = ("ssn", "social", "security")
        patterns = (
            Pattern("dashed", _DASHED, at=anchors.digit_starts, invalidate=_area_000),
            Pattern("plain", _PLAIN, 0.9, at=anchors.digit_starts, context=True),
        )

``PatternDetector.hits`` runs the patterns in order. For each one it skips the pattern when the
text lacks what it ``needs`` (words, a digit); matches it only at its ``at`` offsets (``anchors``)
or else scans the text (only the parts ``within`` names, when it names some: the lines with a
credential), a plain ASCII text by the regex's faster twin (``anchors.folded``);
takes named group ``v`` (or ``w``) when it took part, else the whole match; drops ``trim``
characters from the end; keeps the hit when ``validate`` holds (a checksum, a real address),
``invalidate`` does not (an impossible value, a dose, a rating) and, for ``context=True``, one of
the detector's ``context`` words is in the window before it (``phi.context``: the one context
policy); then ``extend`` may grow it (a house number before a street). Each hit becomes a
``PhiSpan`` naming the detector and the pattern. Patterns that share a regex and ``at`` (one shape
told apart by its checks: Luhn-valid or not) match the text once.

A detector with logic no pattern can say (names, places, ages around a number) overrides ``find``
and adds its own spans to those of its patterns; it too looks around a match only through
``phi.context``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from .. import anchors
from ..adapter import PhiDetector
from ..context import has_context
from ..spans import PhiSpan

Check = Callable[[str, int, int], bool]              # (text, start, end) of the hit -> verdict
Extend = Callable[[str, int, int], tuple[int, int]]  # (text, start, end) -> the hit's new extent
Starts = Callable[[str], tuple[int, ...]]            # text -> offsets where a match may begin
Spans = Callable[[str], tuple[tuple[int, int], ...]]  # text -> (start, end) of the parts where a match may lie
Gate = tuple[str, ...] | Callable[[str], bool]       # lower-case substrings (any one) or a test of the text


@dataclass(frozen=True)
class Pattern:
    name: str                        # the span's ``pattern``: which rule found it
    regex: re.Pattern[str]
    score: float = 1.0               # on overlap the surer hit names the merged span
    kind: str | None = None          # default: the detector's kind
    at: Starts | None = None         # match only at these offsets (None: scan the text)
    within: Spans | None = None      # else scan only these parts of the text (no match crosses their ends)
    needs: Gate = ()                 # a cheap test of the text; failed, the pattern is skipped
    needs_digit: bool = False        # another: the text holds a digit
    context: bool = False            # kept only with one of the detector's context words near
    validate: Check | None = None    # must hold
    invalidate: Check | None = None  # must not hold
    trim: str = ""                   # characters dropped from the end of the hit
    extend: Extend | None = None     # grows a kept hit


Hit = tuple[Pattern, int, int]  # which pattern, start, end
_LITERAL_START = re.compile(r"[^\\.^$*+?{}\[\]|()]+")


def holds(source: str, flags: int = 0, words: tuple[str, ...] = (),
          test: Callable[[str], bool] | None = None, lead: str = "", heads: tuple[str, ...] = ()) -> Callable[[str], bool]:
    """A ``needs`` gate: the text holds ``source``, a part that every match of the pattern must contain
    (after the pattern's ``words`` and ``test``, when it had those). A regex that begins with ``\\b`` or a
    lookbehind is tried by ``re`` at every character of the text (~0.1 ms on a 2-3 KB note); one that
    begins with a character or a class is found by ``re``'s fast scan for that character, so a note
    that cannot hold a match skips the pattern at a fraction of the cost. Being a necessary part, the
    gate never changes what the pattern finds.

    ``lead``, a class of one character that the regex ``lead + source`` begins with (``\\s``: a space
    stops ``re`` everywhere), is tested apart on plain ASCII text: ``source`` is searched for alone
    (its first characters are rarer) and each place it matches is kept when the character before it
    is in ``lead``: the same test as searching ``lead + source``, which the gate does on other text.

    ``heads``: strings one of which begins every match of ``source`` (in lower case when the regex
    ignores case: then the twin reads the lower-cased text). On plain ASCII text ``source`` is then
    tried only where a head is (``str.find``: a long alternation of words stops ``re`` at each of their
    first letters), before ``words`` and ``test``, which it makes unneeded where no head matches."""
    regex = re.compile(lead + source, flags)
    twin, lowered = anchors.twin(regex)
    if lead:
        twin, lowered = anchors.twin(re.compile(source, flags))
        lead_twin, lead_lowered = anchors.twin(re.compile(lead, flags))
    if heads and flags & re.IGNORECASE and not lowered:
        heads = ()  # the twin reads the text itself: lower-case heads would miss capitals
    assert not (flags & re.IGNORECASE and heads) or all(head == head.lower() for head in heads)

    def at_heads(text: str) -> bool:
        string = anchors.lower(text) if lowered else text
        before = (anchors.lower(text) if lead_lowered else text) if lead else ""
        first = 1 if lead else 0
        match = twin.match
        for head in heads:
            pos = string.find(head, first)
            while pos >= 0:
                if match(string, pos) is not None and (not lead or lead_twin.match(before, pos - 1) is not None):
                    return True
                pos = string.find(head, pos + 1)
        return False

    def gate(text: str) -> bool:
        plain = anchors.plain_ascii(text)
        if heads and plain and not at_heads(text):
            return False
        if words:
            lower = anchors.lower(text)
            if not any(word in lower for word in words):
                return False
        if test is not None and not test(text):
            return False
        if plain:
            if heads:
                return True  # at_heads found a match
            string = anchors.lower(text) if lowered else text
            if not lead:
                return twin.search(string) is not None
            before = anchors.lower(text) if lead_lowered else text
            m = twin.search(string, 1)
            while m is not None:
                start = m.start()
                if lead_twin.match(before, start - 1) is not None:
                    return True
                m = twin.search(string, start + 1)
            return False
        return regex.search(text) is not None
    return gate


def literal_heads(alternatives: tuple[str, ...], lower: bool = False) -> tuple[str, ...]:
    """The literal text each regex alternative begins with, for ``holds(heads=...)``: derived from the
    alternatives themselves, so a name added to a list is never missing from its gate's heads. A
    character that a quantifier makes optional ("Children'?s") is left out."""
    heads = []
    for alternative in alternatives:
        m = _LITERAL_START.match(alternative)
        head = m.group(0) if m else ""
        if head and alternative[len(head):len(head) + 1] in ("?", "*", "{"):
            head = head[:-1]
        if not head:
            raise ValueError(f"regex alternative {alternative!r} begins with no literal text")
        heads.append(head.lower() if lower else head)
    # a head that a shorter one begins is found by that one's search already
    return tuple(h for h in dict.fromkeys(heads) if not any(h != o and h.startswith(o) for o in heads))


def holds_near_digits(source: str, start: Callable[[str, int], int]) -> Callable[[str], bool]:
    """A ``needs`` gate for a regex (case-sensitive, no lookbehind first) whose every match holds a run of
    digits that begins at a place ``start`` can step back from to where some match begins: ``start(text,
    run)`` is that place or -1. The regex is tried there only (``anchors.digit_starts``, found once per
    text), not at every capital or digit of the text as ``re.search`` does; it answers what ``search``
    would, as long as ``start`` gives -1 only where no match begins."""
    regex = re.compile(source)

    def gate(text: str) -> bool:
        match = regex.match
        for run in anchors.digit_starts(text):
            begin = start(text, run)
            if begin >= 0 and match(text, begin) is not None:
                return True
        return False
    return gate


def value_span(m: re.Match[str]) -> tuple[int, int]:
    """Group ``v`` or ``w`` when the regex has one that took part (context kept out), else the match."""
    groups = m.re.groupindex
    for group in ("v", "w"):
        if group in groups and m.start(group) >= 0:
            return m.span(group)
    return m.span()


class PatternDetector(PhiDetector):
    """Subclasses set ``name``, ``kind``, ``patterns`` and ``context``; ``find`` yields the hits."""

    patterns: ClassVar[tuple[Pattern, ...]] = ()
    context: ClassVar[tuple[str, ...]] = ()  # context words, lower case

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._plan = _plan(self.patterns)

    def applies(self, text: str) -> bool:
        """A cheap test that the text can hold anything for this detector at all."""
        return True

    def find(self, text: str) -> Iterable[PhiSpan]:
        span = self.span
        return [span(start, end, p.name, p.score, p.kind) for p, start, end in self.hits(text)]

    def has_context(self, text: str, start: int) -> bool:
        return has_context(text, start, self.context)

    def hits(self, text: str) -> list[Hit]:
        """(pattern, start, end) of every hit, pattern by pattern."""
        found: list[Hit] = []
        if not self.applies(text):
            return found
        lower: str | None = None
        plain = anchors.plain_ascii(text)  # scan with the twins (anchors.folded, looked up once in _plan)
        shared: dict[int, list[re.Match[str]]] = {}
        tested: dict[int, bool] = {}  # a test that several patterns need (iban, iban-shape) runs once
        for p, regex, twin, lowered, at, digit, words, test, share, keep, groups in self._plan:
            if digit and not anchors.digit_starts(text):
                continue
            if words:
                if lower is None:
                    lower = anchors.lower(text)
                for word in words:
                    if word in lower:
                        break
                else:
                    continue  # none of the words the pattern needs
            if test is not None:
                passed = tested.get(id(test))
                if passed is None:
                    passed = tested[id(test)] = test(text)
                if not passed:
                    continue
            if share in shared:
                matches = shared[share]
            else:
                scan, string = regex, text
                if plain:
                    scan, string = twin, anchors.lower(text) if lowered else text
                if at is not None:
                    matches = anchors.matches_at(scan, string, at(text))
                elif p.within is not None:
                    matches = [m for start, end in p.within(text) for m in scan.finditer(string, start, end)]
                else:
                    matches = list(scan.finditer(string))
                if keep:
                    shared[share] = matches
            if not matches:
                continue
            trim, validate, invalidate, extend = p.trim, p.validate, p.invalidate, p.extend
            for m in matches:
                start, end = value_span(m) if groups else m.span()
                if trim:
                    while end > start and text[end - 1] in trim:
                        end -= 1
                    if end == start:
                        continue
                if validate is not None and not validate(text, start, end):
                    continue
                if invalidate is not None and invalidate(text, start, end):
                    continue
                if p.context and not self.has_context(text, start):
                    continue
                if extend is not None:
                    start, end = extend(text, start, end)
                found.append((p, start, end))
        return found


_Step = tuple[Pattern, re.Pattern[str], re.Pattern[str], bool, Starts | None, bool, tuple[str, ...],
              Callable[[str], bool] | None, int, bool, bool]


def _plan(patterns: tuple[Pattern, ...]) -> tuple[_Step, ...]:
    """Per pattern, what ``hits`` reads for every text: the pattern, its regex, its twin and whether the
    twin reads lower-cased text (``anchors.twin``), its anchors, its gates (a digit, words, a test),
    the pattern whose matches it reuses (same regex and anchors), whether a later pattern reuses its
    own, and whether the regex has a value group."""
    first: dict[tuple[int, Starts | None], int] = {}
    shares = [first.setdefault((id(p.regex), p.at), i) for i, p in enumerate(patterns)]
    return tuple((p, p.regex, *anchors.twin(p.regex), p.at, p.needs_digit, p.needs if isinstance(p.needs, tuple) else (),
                  None if isinstance(p.needs, tuple) else p.needs, shares[i], shares.count(shares[i]) > 1,
                  bool({"v", "w"} & set(p.regex.groupindex)))
                 for i, p in enumerate(patterns))
