"""Change detection over a patient's journal: which new analyses raise a flag.

Pure: it reads the patient series a run leaves (each (patient, type) at the run's versions,
oldest entry first) and says which flags the run's own new analyses raise. An entry that had an
analysis at earlier versions is a re-analysis (the model or prompt changed, not the patient) and
raises nothing; it still counts as history for the entries after it.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

# per type, its labels from best to worst: a higher index is a worse state
SEVERITY: Mapping[str, tuple[str, ...]] = {
    "risk": ("low", "medium", "high"),
    "depression": ("none", "mild", "moderate", "severe"),
    "wellness": ("good", "fair", "poor"),
    "sentiment": ("positive", "neutral", "negative"),
    "imhi.dr": ("no", "yes"),
    "imhi.dreaddit": ("no", "yes"),
    "imhi.loneliness": ("no", "yes"),
}
KINDS = ("label_change", "risk_increase", "negative_trend")


def _score(kind: str, label: str | None) -> int | None:
    order = SEVERITY.get(kind)
    return order.index(label) if order is not None and label in order else None


def detect(series: Iterable[Mapping[str, Any]], run_id: Any, window: int) -> list[dict[str, Any]]:
    """Flags for the analyses of ``run_id`` in ``series`` (rows with patient_ref_hash, type,
    entry_id, analysis_id, label, run_id, reanalysed; ordered by patient, type, written_at):

    - ``risk_increase`` (requires attention): a ``risk`` label worse than the entry before;
    - ``label_change``: any other label different from the entry before;
    - ``negative_trend``: the last ``window`` labelled entries never improve and end worse than
      they began (requires attention for ``risk``).
    """
    flags: list[dict[str, Any]] = []
    for (patient, kind), rows in itertools.groupby(series, key=lambda r: (r["patient_ref_hash"], r["type"])):
        history: list[Mapping[str, Any]] = []  # labelled entries so far
        for row in rows:
            label = row["label"]
            if label is None:
                continue  # an answer that did not parse: no evidence either way
            new = row["run_id"] == run_id and not row["reanalysed"]
            if new and history:
                flags += _compare(patient, kind, history, row, window)
            history.append(row)
    return flags


def _compare(patient: str, kind: str, history: list[Mapping[str, Any]], row: Mapping[str, Any],
             window: int) -> list[dict[str, Any]]:
    def flag(name: str, before: str | None, attention: bool) -> dict[str, Any]:
        return {"patient": patient, "entry": row["entry_id"], "analysis": row["analysis_id"], "type": kind,
                "kind": name, "from": before, "to": row["label"], "attention": attention}

    out = []
    previous, label = history[-1]["label"], row["label"]
    if previous != label:
        before, now = _score(kind, previous), _score(kind, label)
        if kind == "risk" and before is not None and now is not None and now > before:
            out.append(flag("risk_increase", previous, True))
        else:
            out.append(flag("label_change", previous, False))
    recent = [*history[-(window - 1):], row] if window > 1 else [row]
    scores = [_score(kind, r["label"]) for r in recent]
    if len(recent) == window and None not in scores:
        known = [s for s in scores if s is not None]
        if all(a <= b for a, b in itertools.pairwise(known)) and known[-1] > known[0]:
            out.append(flag("negative_trend", recent[0]["label"], kind == "risk"))
    return out
