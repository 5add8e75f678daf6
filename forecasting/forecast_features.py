"""Windows of a symptom series as model inputs for the forecaster.

Every series is put on the instrument's unit scale (0 best, 1 worst) so one model serves
all instruments. A window is the last ``WINDOW_WEEKS`` weekly bins up to the anchor (the
last observation), plus context about the whole course (time since the first visit,
the baseline score, how many visits there were). Targets are the scores observed
``h`` weeks after the anchor (+-3 days), NaN when that visit did not happen.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .instruments import INSTRUMENTS
from .schemas import H_MAX, MIN_FORECAST_OBS
from .series import weekly_grid

WINDOW_WEEKS = 16
N_RECENT = 3  # "mean of recent visits" uses the last 3 observed scores


@dataclass
class ForecastWindows:
    grid: np.ndarray  # (N, K) unit-scaled weekly scores, NaN = no visit that week
    context: np.ndarray  # (N, 3) weeks since first visit / 52, baseline score, visits / 52
    instrument: np.ndarray  # (N,) instrument names
    targets: np.ndarray  # (N, H_MAX) unit-scaled future scores, NaN = unknown
    group: np.ndarray  # (N,) patient id (for splits and bootstrap)

    def __len__(self) -> int:
        return len(self.grid)

    @property
    def last(self) -> np.ndarray:
        return self.grid[:, -1]

    @property
    def recent_mean(self) -> np.ndarray:
        return recent_mean(self.grid)

    def subset(self, mask: np.ndarray) -> ForecastWindows:
        return ForecastWindows(self.grid[mask], self.context[mask], self.instrument[mask], self.targets[mask],
                               self.group[mask])

    @staticmethod
    def concat(parts: list[ForecastWindows]) -> ForecastWindows:
        return ForecastWindows(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                                 ("grid", "context", "instrument", "targets", "group")))


def recent_mean(grid: np.ndarray, n: int = N_RECENT) -> np.ndarray:
    """Mean of the last ``n`` observed bins of each row."""
    out = np.empty(len(grid))
    for i, row in enumerate(grid):
        seen = row[~np.isnan(row)]
        out[i] = seen[-n:].mean()
    return out


def window_at(days: np.ndarray, unit: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid and context of the series cut after observation ``j``."""
    anchor = days[j]
    grid = weekly_grid(days[: j + 1], unit[: j + 1], anchor, WINDOW_WEEKS)
    # Capped at the longest simulated course (52 weeks) so longer real series do not extrapolate.
    context = np.array([min((anchor - days[0]) / 7.0 / 52.0, 1.0), unit[0], min((j + 1) / 52.0, 1.0)])
    return grid, context


def future_targets(days: np.ndarray, unit: np.ndarray, j: int) -> np.ndarray:
    out = np.full(H_MAX, np.nan)
    ahead = days[j + 1:]
    for h in range(1, H_MAX + 1):
        hit = np.flatnonzero(np.abs(ahead - days[j] - 7 * h) <= 3)
        if hit.size:
            out[h - 1] = unit[j + 1 + hit[0]]
    return out


def windows_from_series(days: np.ndarray, values: np.ndarray, instrument: str, group: int,
                        min_obs: int = MIN_FORECAST_OBS) -> ForecastWindows:
    """All training windows of one series: one per observation with enough history."""
    unit = INSTRUMENTS[instrument].scale(values.astype(float))
    grids, contexts, targets = [], [], []
    for j in range(min_obs - 1, len(days) - 1):
        g, c = window_at(days, unit, j)
        grids.append(g)
        contexts.append(c)
        targets.append(future_targets(days, unit, j))
    n = len(grids)
    return ForecastWindows(
        np.array(grids).reshape(n, WINDOW_WEEKS), np.array(contexts).reshape(n, 3), np.array([instrument] * n),
        np.array(targets).reshape(n, H_MAX), np.full(n, group),
    )


def request_window(days: np.ndarray, values: np.ndarray, instrument: str) -> ForecastWindows:
    """The single window of a forecast request (anchor = its last observation)."""
    unit = INSTRUMENTS[instrument].scale(values.astype(float))
    g, c = window_at(days, unit, len(days) - 1)
    return ForecastWindows(g[None], c[None], np.array([instrument]), np.full((1, H_MAX), np.nan), np.zeros(1, int))


def _nan_slope(grid: np.ndarray) -> np.ndarray:
    """Least-squares slope per row over observed bins (units per week); 0 with < 2 points."""
    x = np.arange(grid.shape[1], dtype=float)[None, :]
    m = ~np.isnan(grid)
    n = m.sum(1)
    xm = np.where(m, x, 0).sum(1) / np.maximum(n, 1)
    ym = np.where(m, grid, 0).sum(1) / np.maximum(n, 1)
    dx = np.where(m, x - xm[:, None], 0)
    dy = np.where(m, np.nan_to_num(grid) - ym[:, None], 0)
    sxx = (dx * dx).sum(1)
    return np.where((n >= 2) & (sxx > 0), (dx * dy).sum(1) / np.maximum(sxx, 1e-9), 0.0)


def _ewm(grid: np.ndarray, alpha: float) -> np.ndarray:
    out = grid[:, 0].copy()
    for k in range(1, grid.shape[1]):
        v = grid[:, k]
        out = np.where(np.isnan(out), v, np.where(np.isnan(v), out, alpha * v + (1 - alpha) * out))
    return out


GBM_FEATURES = (
    [f"lag_{k}" for k in range(8)]
    + ["last", "recent_mean", "window_mean", "window_std", "window_min", "window_max", "n_window",
       "slope_8w", "slope_16w", "ewm_0.3", "ewm_0.6", "mean_abs_diff", "weeks_since_start", "baseline",
       "last_minus_baseline", "n_visits", "horizon"]
)


def gbm_base_features(w: ForecastWindows) -> np.ndarray:
    """Horizon-independent lag/rolling features (N, len(GBM_FEATURES) - 1)."""
    g = w.grid
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: LightGBM treats NaN as missing
        lags = g[:, ::-1][:, :8]
        diffs = np.abs(np.diff(g, axis=1))
        cols = [
            lags,
            w.last[:, None], w.recent_mean[:, None], np.nanmean(g, 1)[:, None], np.nanstd(g, 1)[:, None],
            np.nanmin(g, 1)[:, None], np.nanmax(g, 1)[:, None], (~np.isnan(g)).sum(1)[:, None],
            _nan_slope(g[:, -8:])[:, None], _nan_slope(g)[:, None], _ewm(g, 0.3)[:, None], _ewm(g, 0.6)[:, None],
            np.nanmean(diffs, 1)[:, None], w.context[:, :1] * 52, w.context[:, 1:2],
            (w.last - w.context[:, 1])[:, None], w.context[:, 2:3] * 52,
        ]
    return np.hstack(cols)


def gbm_rows(base: np.ndarray, horizons: np.ndarray) -> np.ndarray:
    """Stack one row per (window, horizon), horizon as the last feature."""
    n = len(base)
    return np.hstack([np.repeat(base, len(horizons), 0), np.tile(horizons, n)[:, None].astype(float)])
