"""Per-series fallback to the last value: the learned forecast is trusted on a series only as far
as it beat the last value on that series' own recent past.

At a forecast origin, the check looks back over the series' previous ``CHECK_ORIGINS`` origins
and, per horizon, over those whose target visit had already happened by the origin (nothing from
after the origin is used). With ``d`` the learned forecast minus the last value and ``e`` the
outcome minus the last value on those checks, the served forecast is
``last + lam * (learned - last)`` with ``lam = clip(sum(d*e) / sum(d*d), 0, 1) * n / (n + SHRINK)``:
the share of the learned move that paid off on this series, shrunk toward a prior share by
``SHRINK`` pseudo-checks (checks below ``MIN_CHECKS`` count as none). The default model, fitted
without the deployment's data, has prior 0: with little own history it serves the last value. A
model trained on the deployment's series gets its prior per horizon from validation patients of
that data (``choose_prior``): there the ensemble has earned some trust before a series shows any. A model fitted to one
population keeps most of its gain on series that behave like that population and stays close to
the last value on series that do not. (A hard switch, "learned if it won", was tried first: on
random walks its selection noise cost 2-3% against the last value; this blend costs about 1%.)

The same function serves a request (its own earlier origins, rebuilt from the payload) and scores
a backtest (all origins of every series at once), so the figures are those of the served rule.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .forecast_features import ForecastWindows
from .schemas import H_MAX

CHECK_ORIGINS = 12  # earlier origins of the series that are checked
MIN_CHECKS = 3  # fewer known outcomes than this at a horizon: serve the last value
SHRINK = 8.0  # pseudo-checks pulling the share toward 0 (the last value)


def series_index(w: ForecastWindows) -> list[np.ndarray]:
    """Row indices of each series (same patient and instrument), ordered by origin."""
    _, inst = np.unique(w.instrument, return_inverse=True)
    order = np.lexsort((w.anchor, inst, w.group))
    key = np.stack([w.group[order].astype(float), inst[order].astype(float)], 1)
    cuts = np.flatnonzero(np.any(np.diff(key, axis=0) != 0, axis=1)) + 1
    return np.split(order, cuts)


def own_history(w: ForecastWindows, learned: np.ndarray, naive: np.ndarray, check_origins: int = CHECK_ORIGINS,
                min_checks: int = MIN_CHECKS, last_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(share, n): per row and horizon, the share in [0, 1] of the learned move that paid off on the
    series' own earlier origins, and the number of those checks (0 when fewer than ``min_checks``).
    ``last_only``: only each series' last origin (a request) is filled in."""
    d = learned - naive[:, None]
    e = np.nan_to_num(w.targets - naive[:, None])
    share, count = np.zeros((len(w), H_MAX)), np.zeros((len(w), H_MAX))
    for rows in series_index(w):
        for pos in range(max(1, len(rows) - 1) if last_only else 1, len(rows)):
            past = rows[max(0, pos - check_origins):pos]
            known = w.target_day[past] <= w.anchor[rows[pos]]  # NaN (no visit) compares False
            n = known.sum(0)
            if n.max() < min_checks:
                continue
            dd = np.where(known, d[past], 0.0)
            num = (dd * np.where(known, e[past], 0.0)).sum(0)
            den = (dd * dd).sum(0)
            share[rows[pos]] = np.clip(num / np.maximum(den, 1e-12), 0.0, 1.0)
            count[rows[pos]] = np.where(n >= min_checks, n, 0)
    return share, count


def blend(share: np.ndarray, count: np.ndarray, prior: np.ndarray, shrink: float = SHRINK) -> np.ndarray:
    """The series' own share, shrunk toward ``prior`` (per horizon) by ``shrink`` pseudo-checks."""
    return (count * share + shrink * np.asarray(prior)[None, :]) / (count + shrink)


def trust(w: ForecastWindows, learned: np.ndarray, naive: np.ndarray, prior: np.ndarray | None = None,
          **kw: Any) -> np.ndarray:
    """(N, H_MAX) share in [0, 1] of the learned move to serve."""
    return blend(*own_history(w, learned, naive, **kw), np.zeros(H_MAX) if prior is None else prior)


def choose_prior(w: ForecastWindows, learned: np.ndarray, grid: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
                 ) -> np.ndarray:
    """Per horizon, the prior share with the lowest MAE on ``w`` (validation patients of the deployment)."""
    share, count = own_history(w, learned, w.last)
    out = np.zeros(H_MAX)
    for h in range(H_MAX):
        k = ~np.isnan(w.targets[:, h])
        if not k.any():
            continue
        maes = []
        for p in grid:
            s = (count[k, h] * share[k, h] + SHRINK * p) / (count[k, h] + SHRINK)
            point = w.last[k] + s * (learned[k, h] - w.last[k])
            maes.append(np.abs(point - w.targets[k, h]).mean())
        out[h] = grid[int(np.argmin(maes))]
    return out


def serve(w: ForecastWindows, learned: np.ndarray, prior: np.ndarray, last_only: bool = False
          ) -> tuple[np.ndarray, np.ndarray]:
    """(point, share of the learned move served); with ``last_only`` only each series' last row is right."""
    share = trust(w, learned, w.last, prior, last_only=last_only)
    return w.last[:, None] + share * (learned - w.last[:, None]), share
