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

The same check (``_checked_share``) serves a request (``serve_last``: its own earlier origins, rebuilt
from the payload) and scores a backtest (``serve``: all origins of every series at once), so the
figures are those of the served rule (tests/forecasting/test_fallback.py compares them bit for bit).
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
                min_checks: int = MIN_CHECKS) -> tuple[np.ndarray, np.ndarray]:
    """(share, n): per row and horizon, the share in [0, 1] of the learned move that paid off on the
    series' own earlier origins, and the number of those checks (0 when fewer than ``min_checks``)."""
    d = learned - naive[:, None]
    e = np.nan_to_num(w.targets - naive[:, None])
    share, count = np.zeros((len(w), H_MAX)), np.zeros((len(w), H_MAX))
    for rows in series_index(w):
        for pos in range(1, len(rows)):
            checked = _checked_share(w, d, e, rows[max(0, pos - check_origins):pos], rows[pos], min_checks)
            if checked is not None:
                share[rows[pos]], count[rows[pos]] = checked
    return share, count


def _checked_share(w: ForecastWindows, d: np.ndarray, e: np.ndarray, past: np.ndarray, row: int, min_checks: int
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """(share, n) of one origin ``row`` from the rows ``past`` of its series, None below ``min_checks``."""
    known = w.target_day[past] <= w.anchor[row]  # NaN (no visit) compares False
    n = known.sum(0)
    if n.max() < min_checks:
        return None
    dd = np.where(known, d[past], 0.0)
    num = (dd * np.where(known, e[past], 0.0)).sum(0)
    den = (dd * dd).sum(0)
    return np.clip(num / np.maximum(den, 1e-12), 0.0, 1.0), np.where(n >= min_checks, n, 0)


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


def serve(w: ForecastWindows, learned: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(point, share of the learned move served)."""
    share = trust(w, learned, w.last, prior)
    return w.last[:, None] + share * (learned - w.last[:, None]), share


def serve_last(w: ForecastWindows, learned: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``serve`` at the last row of one series' windows ordered by origin (a request: ``request_windows``),
    checking only that row: (point, share), each (H_MAX,). Of ``learned`` only ``read_by_serve_last``
    is read."""
    row, last = len(w) - 1, w.last
    share, count = np.zeros(H_MAX), np.zeros(H_MAX)
    if row > 0:
        d = learned - last[:, None]
        e = np.nan_to_num(w.targets - last[:, None])
        checked = _checked_share(w, d, e, _checked_rows(row), row, MIN_CHECKS)
        if checked is not None:
            share[:], count[:] = checked
    share = blend(share[None], count[None], prior)[0]
    return last[row] + share * (learned[row] - last[row]), share


def _checked_rows(row: int) -> np.ndarray:
    return np.arange(max(0, row - CHECK_ORIGINS), row)


def read_by_serve_last(w: ForecastWindows) -> np.ndarray:
    """(N, H_MAX) bool: the learned forecasts ``serve_last`` reads, the last row's and those of the earlier
    origins whose outcome was known at the last one."""
    row = len(w) - 1
    read = np.zeros((len(w), H_MAX), bool)
    past = _checked_rows(row)
    read[past] = w.target_day[past] <= w.anchor[row]
    read[row] = True
    return read
