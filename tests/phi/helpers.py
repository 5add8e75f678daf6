"""Table-test helper: which parts of a text must be masked, and which must stay."""
from __future__ import annotations

from dataclasses import dataclass, field

from phi import PhiSpan


@dataclass(frozen=True)
class Case:
    text: str
    masked: list[tuple[str, str]] = field(default_factory=list)   # (substring, kind)
    kept: list[str] = field(default_factory=list)                 # substrings left in clear

    def __str__(self) -> str:
        return self.text[:50]


def check(case: Case, spans: list[PhiSpan]) -> None:
    covered = set()
    for span in spans:
        covered.update(range(span.start, span.end))
    found = [(case.text[s.start:s.end], s.kind, s.pattern) for s in spans]
    for value, kind in case.masked:
        start = case.text.index(value)
        chars = [i for i in range(start, start + len(value)) if case.text[i].isalnum()]
        assert all(i in covered for i in chars), f"{value!r} not fully masked; found {found}"
        kinds = {s.kind for s in spans if s.start < start + len(value) and s.end > start}
        assert kind in kinds, f"{value!r} masked as {kinds}, expected {kind}; found {found}"
    for value in case.kept:
        start = case.text.index(value)
        assert not any(i in covered for i in range(start, start + len(value))), \
            f"{value!r} should stay; found {found}"
