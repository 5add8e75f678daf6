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
    anchor: np.ndarray  # (N,) day of the window's last observation (its forecast origin)
    target_day: np.ndarray  # (N, H_MAX) day of each target visit, NaN = none

    def __len__(self) -> int:
        return len(self.grid)

    @property
    def last(self) -> np.ndarray:
        return self.grid[:, -1]

    @property
    def recent_mean(self) -> np.ndarray:
        return recent_mean(self.grid)

    def subset(self, mask: np.ndarray) -> ForecastWindows:
        return ForecastWindows(*(getattr(self, f)[mask] for f in FIELDS))

    @staticmethod
    def concat(parts: list[ForecastWindows]) -> ForecastWindows:
        return ForecastWindows(*(np.concatenate([getattr(p, f) for p in parts]) for f in FIELDS))


FIELDS = ("grid", "context", "instrument", "targets", "group", "anchor", "target_day")


def recent_mean(grid: np.ndarray, n: int = N_RECENT) -> np.ndarray:
    """Mean of the last ``n`` observed bins of each row."""
    seen = ~np.isnan(grid)
    from_end = np.cumsum(seen[:, ::-1], 1)[:, ::-1]  # observed bins at or after each bin
    take = seen & (from_end <= n)
    return np.where(take, grid, 0.0).sum(1) / np.maximum(take.sum(1), 1)


def window_at(days: np.ndarray, unit: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid and context of the series cut after observation ``j``."""
    anchor = days[j]
    grid = weekly_grid(days[: j + 1], unit[: j + 1], anchor, WINDOW_WEEKS)
    # Capped at the longest simulated course (52 weeks) so longer real series do not extrapolate.
    context = np.array([min((anchor - days[0]) / 7.0 / 52.0, 1.0), unit[0], min((j + 1) / 52.0, 1.0)])
    return grid, context


def future_targets(days: np.ndarray, unit: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, days) of the visit ``h`` weeks after observation ``j`` (+-3 days), NaN when there is none."""
    out, when = np.full(H_MAX, np.nan), np.full(H_MAX, np.nan)
    ahead = days[j + 1:]
    if ahead.size:
        h = np.round((ahead - days[j]) / 7.0).astype(int)
        ok = (np.abs(ahead - days[j] - 7 * h) <= 3) & (h >= 1) & (h <= H_MAX)
        for k in np.flatnonzero(ok)[::-1]:  # the first visit of each week wins
            out[h[k] - 1], when[h[k] - 1] = unit[j + 1 + k], ahead[k]
    return out, when


def windows_from_series(days: np.ndarray, values: np.ndarray, instrument: str, group: int,
                        min_obs: int = MIN_FORECAST_OBS, *, first: int = 0, include_last: bool = False
                        ) -> ForecastWindows:
    """Windows of one series: one per observation with enough history (from index ``first`` on).

    Without ``include_last`` the last observation (nothing after it to learn from) is left out.
    All origins at once: the same bins as ``window_at`` and the same targets as ``future_targets``.
    """
    days = np.asarray(days, float)
    unit = INSTRUMENTS[instrument].scale(values.astype(float))
    origins = np.arange(max(min_obs - 1, first), len(days) - (0 if include_last else 1))
    n, m = len(origins), len(days)
    if n == 0:
        return ForecastWindows(np.zeros((0, WINDOW_WEEKS)), np.zeros((0, 3)), np.array([], dtype=str),
                               np.zeros((0, H_MAX)), np.zeros(0, int), np.zeros(0), np.zeros((0, H_MAX)))
    col = np.arange(m)[None, :]
    anchor = days[origins][:, None]
    delta = days[None, :] - anchor  # (n, m): day of each observation relative to each origin
    back = np.round(-delta / 7.0).astype(int)
    past = (col <= origins[:, None]) & (back >= 0) & (back < WINDOW_WEEKS)
    rows = np.broadcast_to(np.arange(n)[:, None], (n, m))[past]
    bins = (WINDOW_WEEKS - 1 - back)[past]
    sums = np.zeros((n, WINDOW_WEEKS))
    counts = np.zeros((n, WINDOW_WEEKS))
    np.add.at(sums, (rows, bins), np.broadcast_to(unit[None, :], (n, m))[past])
    np.add.at(counts, (rows, bins), 1.0)
    grid = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    context = np.stack([np.minimum((days[origins] - days[0]) / 7.0 / 52.0, 1.0), np.full(n, unit[0]),
                        np.minimum((origins + 1) / 52.0, 1.0)], 1)
    h = np.round(delta / 7.0).astype(int)
    ahead = (col > origins[:, None]) & (np.abs(delta - 7 * h) <= 3) & (h >= 1) & (h <= H_MAX)
    first_col = np.full((n, H_MAX), m)
    r, c = np.nonzero(ahead)
    np.minimum.at(first_col, (r, h[r, c] - 1), c)  # the first visit of each week ahead
    found = first_col < m
    safe = np.minimum(first_col, m - 1)
    targets = np.where(found, unit[safe], np.nan)
    when = np.where(found, days[safe], np.nan)
    return ForecastWindows(grid, context, np.array([instrument] * n), targets, np.full(n, group), days[origins], when)


def request_windows(days: np.ndarray, values: np.ndarray, instrument: str, n_past: int) -> ForecastWindows:
    """The request's window (last row) after up to ``n_past`` windows of its own earlier origins."""
    return windows_from_series(days, values, instrument, 0, first=len(days) - 1 - n_past, include_last=True)


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
    """Exponentially weighted mean over observed bins (missing bins skipped), NaN for an empty row.

    The recursion ``out = alpha * v + (1 - alpha) * out`` started at the first observed value, in closed
    form: each observed value weighs ``alpha * (1 - alpha) ** k`` (``k``: observed values after it), the
    first one ``(1 - alpha) ** k``.
    """
    seen = ~np.isnan(grid)
    after = np.cumsum(seen[:, ::-1], 1)[:, ::-1] - seen  # observed bins strictly after each bin
    first = seen & (np.cumsum(seen, 1) == 1)
    weight = np.where(seen, np.where(first, 1.0, alpha) * (1 - alpha) ** after, 0.0)
    out = (weight * np.nan_to_num(grid)).sum(1)
    return np.where(seen.any(1), out, np.nan)


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
