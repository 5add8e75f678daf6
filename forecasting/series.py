"""Turning validated request series into numeric arrays on a day / week grid."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .schemas import DailyBiometrics, Observation
from .simulator import BIOMETRIC_NAMES


def observation_days(observations: Sequence[Observation]) -> tuple[np.ndarray, np.ndarray]:
    """(fractional day ordinals, values) of a sorted observation list."""
    days = np.array([o.timestamp.toordinal() + (o.timestamp.hour * 3600 + o.timestamp.minute * 60
                                                + o.timestamp.second) / 86400.0 for o in observations])
    return days, np.array([o.value for o in observations], dtype=float)


def weekly_grid(days: np.ndarray, values: np.ndarray, anchor: float, n_weeks: int) -> np.ndarray:
    """Mean value per week bin counted back from ``anchor`` (last bin = anchor's week), NaN if empty.

    Bin k holds observations within +-3.5 days of ``anchor - 7 * (n_weeks - 1 - k)``, so a weekly
    visit schedule with a day of jitter lands one visit per bin.
    """
    back = np.round((anchor - days) / 7.0).astype(int)
    grid = np.full(n_weeks, np.nan)
    keep = (back >= 0) & (back < n_weeks)
    if keep.any():
        idx = n_weeks - 1 - back[keep]
        sums = np.bincount(idx, weights=values[keep], minlength=n_weeks)
        counts = np.bincount(idx, minlength=n_weeks)
        grid = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return grid


def daily_symptoms(days: np.ndarray, values: np.ndarray) -> dict[int, float]:
    """Mean value per calendar day ordinal."""
    out: dict[int, list[float]] = {}
    for d, v in zip(np.floor(days).astype(int), values, strict=True):
        out.setdefault(int(d), []).append(float(v))
    return {d: float(np.mean(v)) for d, v in out.items()}


def biometric_matrix(records: Sequence[DailyBiometrics] | None, first: int, last: int,
                     names: Sequence[str] = BIOMETRIC_NAMES) -> np.ndarray:
    """(last - first + 1, len(names)) daily matrix over ordinals first..last, NaN where missing."""
    out = np.full((last - first + 1, len(names)), np.nan)
    for rec in records or ():
        d = rec.date.toordinal() - first
        if 0 <= d < len(out):
            for j, name in enumerate(names):
                v = getattr(rec, name)
                if v is not None:
                    out[d, j] = v
    return out
