"""Deterioration models from a deployment's own series (issue 15), judged by a patient-split backtest.

A training line is the deterioration payload (``instrument``, ``observations``, optional
``biometrics``) plus an optional ``patient``; other keys (such as ``outcome``) are ignored: the label
at each visit is computed from the series itself, exactly as for simulated patients (worsening by
the instrument's reliable-change threshold at any visit within 4 weeks), so the model learns the
question the job answers. Every visit with 4 before it and a known 4-week outcome is a sample.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from .deterioration import expected_calibration_error
from .deterioration_features import SEQ_DAYS, DeteriorationSamples, future_label, sample_at
from .instruments import INSTRUMENTS
from .schemas import MIN_DETERIORATION_OBS, DeteriorationRequest, parse_payload_lines
from .series import biometric_matrix, observation_days


def parse_deterioration(lines: Iterable[Mapping[str, Any] | str]) -> tuple[list[tuple[str, DeteriorationRequest]],
                                                                           list[dict]]:
    return parse_payload_lines(lines, DeteriorationRequest, ("instrument", "observations", "biometrics"))


def samples_from(series: Sequence[tuple[str, DeteriorationRequest]]) -> DeteriorationSamples:
    ids: dict[str, int] = {}
    feats, seqs, labels, groups = [], [], [], []
    for patient, req in series:
        inst = INSTRUMENTS[req.instrument]
        days, values = observation_days(req.observations)
        unit = inst.scale(values)
        delta = inst.deterioration_delta / inst.span
        first = int(np.floor(days[0])) - SEQ_DAYS + 1
        bio_all = biometric_matrix(req.biometrics, first, int(np.floor(days[-1])))  # one pass over the records
        gid = ids.setdefault(patient, len(ids))
        for j in range(MIN_DETERIORATION_OBS - 1, len(days) - 1):
            label = future_label(days, unit, j, delta)
            if label < 0:
                continue
            anchor = int(np.floor(days[j])) - first
            f, s = sample_at(days, unit, j, bio_all[anchor - SEQ_DAYS + 1: anchor + 1], delta)
            feats.append(f)
            seqs.append(s)
            labels.append(label)
            groups.append(gid)
    if not labels:
        raise ValueError("no visit has 4 earlier visits and a known 4-week outcome")
    return DeteriorationSamples(np.array(feats), np.array(seqs, dtype=np.float32), np.array(labels), np.array(groups))


def split_samples(s: DeteriorationSamples, fractions: Sequence[float], seed: int) -> list[DeteriorationSamples]:
    ids = np.unique(s.group)
    order = np.random.default_rng(seed).permutation(ids)
    bounds = np.round(np.cumsum([0, *fractions]) / sum(fractions) * len(ids)).astype(int)
    return [s.subset(np.isin(s.group, order[a:b])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def scores(label: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    if len(np.unique(label)) < 2:
        return {"auroc": None, "ece": None, "brier": None}
    return {"auroc": float(roc_auc_score(label, p)), "ece": expected_calibration_error(p, label),
            "brier": float(brier_score_loss(label, p))}


def deterioration_promotion(table: Mapping[str, Any]) -> dict[str, Any]:
    """Active only if its backtest AUROC beats chance, its own logistic baseline's and the active version's."""
    cand = table["candidate"]["auroc"]
    if cand is None:
        return {"decision": "rejected", "reasons": ["the backtest patients have only one outcome class"]}
    reasons = []
    bars = {"chance": 0.5, "the logistic baseline": table["logistic"]["auroc"],
            "the active version": (table.get("active") or {}).get("auroc")}
    for what, bar in bars.items():
        # the served model may be the logistic itself: equal to its own baseline is not a failure
        ok = bar is None or (cand >= bar if what == "the logistic baseline" else cand > bar)
        if not ok:
            reasons.append(f"AUROC {cand:.4f} not above {what} ({bar:.4f})")
    return {"decision": "rejected" if reasons else "promoted", "reasons": reasons}
