"""Overlapping hits become one span: the union of their extents, labelled by the surest hit."""
from __future__ import annotations

from collections.abc import Iterable

from .spans import KINDS, PhiSpan

# on a tie of scores, the more specific kind names the merged span
_SPECIFICITY = {kind: rank for rank, kind in enumerate(
    ("SSN", "EMAIL", "URL", "IP", "MRN", "PHONE", "ID", "DATE", "AGE", "ADDRESS", "LOCATION", "NAME"))}
assert set(_SPECIFICITY) == set(KINDS)


def merge_spans(spans: Iterable[PhiSpan]) -> list[PhiSpan]:
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    merged: list[PhiSpan] = []
    group: list[PhiSpan] = []
    group_end = -1
    for span in ordered:
        if group and span.start >= group_end:
            merged.append(_resolve(group))
            group = []
        group.append(span)
        group_end = max(group_end, span.end) if len(group) > 1 else span.end
    if group:
        merged.append(_resolve(group))
    return merged


def _resolve(group: list[PhiSpan]) -> PhiSpan:
    if len(group) == 1:
        return group[0]  # already what the merge would build (most spans overlap nothing)
    best = max(group, key=lambda s: (s.score, s.end - s.start, -_SPECIFICITY[s.kind]))
    start = min(s.start for s in group)
    end = max(s.end for s in group)
    return PhiSpan(start, end, best.kind, best.detector, best.pattern, best.score)
