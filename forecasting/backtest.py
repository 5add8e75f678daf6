"""Series from a deployment's own data, rolling-origin backtests and the promotion rule.

A training file has one series a line, the job payload's shape:
``{"instrument": "PHQ-9", "observations": [{"timestamp": ..., "value": ...}, ...]}``; a line may
add ``"patient"`` (lines of one patient are kept together in every split; without it each line is
its own patient) and other keys (``horizon``, ``biometrics``, ``outcome``), which the forecast
ignores. Invalid lines are skipped and counted, never fatal.

The backtest forecasts from every origin of every test series (rolling origin: each observation
with at least 4 before it) and scores each horizon against the visit that came that many weeks
later, in score points, for the candidate, the last value and the version now active.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .forecast_features import ForecastWindows, windows_from_series
from .forecaster import ALPHA, POOLED, conformal_half_widths
from .instruments import INSTRUMENTS
from .schemas import H_MAX, ForecastRequest, parse_payload_lines
from .series import observation_days


@dataclass
class Series:
    patient: str
    instrument: str
    days: np.ndarray
    values: np.ndarray


def parse_series(lines: Iterable[Mapping[str, Any] | str]) -> tuple[list[Series], list[dict]]:
    """Valid series, and ``{"line", "errors"}`` for each skipped line (1-based)."""
    parsed, skipped = parse_payload_lines(lines, ForecastRequest, ("instrument", "observations"))
    out = []
    for patient, req in parsed:
        days, values = observation_days(req.observations)
        out.append(Series(patient, req.instrument, days, values))
    return out, skipped


def read_jsonl(path: Path) -> tuple[list[Series], list[dict]]:
    with open(path, encoding="utf-8") as fh:
        return parse_series(line for line in fh if line.strip())


def series_windows(series: Sequence[Series]) -> ForecastWindows:
    """Every forecast origin of every series; ``group`` numbers the patients."""
    ids: dict[str, int] = {}
    parts = []
    for s in series:
        w = windows_from_series(s.days, s.values, s.instrument, ids.setdefault(s.patient, len(ids)))
        if len(w):
            parts.append(w)
    if not parts:
        raise ValueError("no series has enough observations to forecast from (at least 5 are needed)")
    return ForecastWindows.concat(parts)


def split_by_patient(w: ForecastWindows, fractions: Sequence[float], seed: int) -> list[ForecastWindows]:
    """Disjoint patient groups: no patient has windows in two parts."""
    ids = np.unique(w.group)
    order = np.random.default_rng(seed).permutation(ids)
    bounds = np.round(np.cumsum([0, *fractions]) / sum(fractions) * len(ids)).astype(int)
    return [w.subset(np.isin(w.group, order[a:b])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _span(w: ForecastWindows) -> np.ndarray:
    return np.array([INSTRUMENTS[i].span for i in w.instrument])


def cross_conformal(w: ForecastWindows, point: np.ndarray, seed: int, alpha: float = ALPHA
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Per horizon (coverage, mean width in points) of split-conformal intervals, each half of the
    patients calibrated on the other half: what the deployment's intervals will cover on new patients."""
    a, b = split_by_patient(w, (1, 1), seed + 1)
    mask_a = np.isin(w.group, np.unique(a.group))
    cover, width = np.zeros(H_MAX), np.zeros(H_MAX)
    counts = np.zeros(H_MAX)
    for cal_mask in (mask_a, ~mask_a):
        half = conformal_half_widths(point[cal_mask], w.subset(cal_mask), alpha)
        test = w.subset(~cal_mask)
        p = point[~cal_mask]
        span = _span(test)
        for h in range(H_MAX):
            k = ~np.isnan(test.targets[:, h])
            hw = np.array([half.get(i, half[POOLED])[h] for i in test.instrument[k]])
            cover[h] += (np.abs(p[k, h] - test.targets[k, h]) <= hw + 1e-12).sum()
            width[h] += (2 * hw * span[k]).sum()
            counts[h] += k.sum()
    return cover / np.maximum(counts, 1), width / np.maximum(counts, 1)


def backtest_table(w: ForecastWindows, served: np.ndarray, active: np.ndarray | None, seed: int
                   ) -> list[dict[str, Any]]:
    """Per horizon: windows, MAE (points) of the candidate, the last value and the active version,
    and the candidate's cross-conformal 90% coverage and mean interval width."""
    span = _span(w)
    cover, width = cross_conformal(w, served, seed)
    rows: list[dict[str, Any]] = []
    for h in range(H_MAX):
        k = ~np.isnan(w.targets[:, h])
        if not k.any():  # JSON has no NaN (the registry stores this table as JSONB)
            rows.append({"horizon": h + 1, "n_windows": 0, "n_patients": 0, "mae": None, "mae_last_value": None,
                         "gain_vs_last_value": None, **({"mae_active": None} if active is not None else {}),
                         "coverage": None, "mean_width": None})
            continue
        y, sp = w.targets[k, h], span[k]

        def mae(f: np.ndarray, y=y, sp=sp) -> float:
            return float((np.abs(f - y) * sp).mean())

        row: dict[str, Any] = {"horizon": h + 1, "n_windows": int(k.sum()), "n_patients": int(len(np.unique(w.group[k]))),
               "mae": mae(served[k, h]), "mae_last_value": mae(w.last[k])}
        row["gain_vs_last_value"] = (row["mae_last_value"] - row["mae"]) / row["mae_last_value"] \
            if row["mae_last_value"] > 0 else 0.0
        if active is not None:
            row["mae_active"] = mae(active[k, h])
        row["coverage"] = float(cover[h])
        row["mean_width"] = float(width[h])
        # a horizon the calibration half never reached has an infinite width: JSON (and JSONB) has no inf
        rows.append({key: (None if isinstance(v, float) and not np.isfinite(v) else v) for key, v in row.items()})
    return rows


def promotion(table: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Active only if it beats the last value at every horizon and the active version (if any) too."""
    reasons = []
    for r in table:
        if r["n_windows"] == 0:
            reasons.append(f"h={r['horizon']}: no test windows")
            continue
        if not r["mae"] < r["mae_last_value"]:
            reasons.append(f"h={r['horizon']}: MAE {r['mae']:.3f} not below last value {r['mae_last_value']:.3f}")
        if "mae_active" in r and not r["mae"] < r["mae_active"]:
            reasons.append(f"h={r['horizon']}: MAE {r['mae']:.3f} not below the active version {r['mae_active']:.3f}")
    return {"decision": "rejected" if reasons else "promoted", "reasons": reasons}


def evaluate_served(model: Any, series: Sequence[Series]) -> list[dict[str, Any]]:
    """Per horizon, the served forecast (fallback included) of ``model`` (a ForecastEnsemble) vs the last
    value over every origin of ``series``: MAE in points, gain, and coverage of the model's own intervals."""
    w = series_windows(series)
    served = model.served(w)[0]
    span = _span(w)
    rows: list[dict[str, Any]] = []
    for h in range(H_MAX):
        k = ~np.isnan(w.targets[:, h])
        err = np.abs(served[k, h] - w.targets[k, h]) * span[k]
        naive = np.abs(w.last[k] - w.targets[k, h]) * span[k]
        hw = np.array([model.half_width(i)[h] for i in w.instrument[k]]) * span[k]
        rows.append({"horizon": h + 1, "n_windows": int(k.sum()), "mae": float(err.mean()),
                     "mae_last_value": float(naive.mean()), "gain_vs_last_value": float(1 - err.mean() / naive.mean()),
                     "coverage": float((err <= hw + 1e-9).mean()), "mean_width": float((2 * hw).mean())})
    return rows
