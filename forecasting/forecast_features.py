"""Windows of a symptom series as model inputs for the forecaster.

Every series is put on the instrument's unit scale (0 best, 1 worst) so one model serves
all instruments. A window is the last ``WINDOW_WEEKS`` weekly bins up to the anchor (the
last observation), plus context about the whole course (time since the first visit,
the baseline score, how many visits there were). Targets are the scores observed
``h`` weeks after the anchor (+-3 days), NaN when that visit did not happen.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

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

    @cached_property  # a request reads it three times (two members and a feature); windows are never modified
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


# The row statistics below take a grid as ``filled`` (0 in missing bins) and ``seen`` (observed bins),
# computed once per grid: numpy's nan-functions would rebuild them on each call, and at a request's
# dozen windows those per-call costs, not the arithmetic, are the time.

def _nan_slope(filled: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Least-squares slope per row over observed bins (units per week); 0 with < 2 points."""
    x = np.arange(filled.shape[1], dtype=float)[None, :]
    n = seen.sum(1)
    xm = np.where(seen, x, 0).sum(1) / np.maximum(n, 1)
    ym = filled.sum(1) / np.maximum(n, 1)
    dx = np.where(seen, x - xm[:, None], 0)
    dy = np.where(seen, filled - ym[:, None], 0)
    sxx = (dx * dx).sum(1)
    return np.where((n >= 2) & (sxx > 0), (dx * dy).sum(1) / np.maximum(sxx, 1e-9), 0.0)


def _ewms(filled: np.ndarray, seen: np.ndarray, alphas: tuple[float, ...]) -> list[np.ndarray]:
    """Exponentially weighted mean over observed bins (missing bins skipped), per alpha; NaN for an
    empty row.

    The recursion ``out = alpha * v + (1 - alpha) * out`` started at the first observed value, in closed
    form: each observed value weighs ``alpha * (1 - alpha) ** k`` (``k``: observed values after it), the
    first one ``(1 - alpha) ** k``.
    """
    after = np.cumsum(seen[:, ::-1], 1)[:, ::-1] - seen  # observed bins strictly after each bin
    first = seen & (np.cumsum(seen, 1) == 1)
    empty = ~seen.any(1)
    out = []
    for alpha in alphas:
        weight = np.where(seen, np.where(first, 1.0, alpha) * (1 - alpha) ** after, 0.0)
        out.append(np.where(empty, np.nan, (weight * filled).sum(1)))
    return out


def _ewm(grid: np.ndarray, alpha: float) -> np.ndarray:
    seen = ~np.isnan(grid)
    return _ewms(np.where(seen, grid, 0.0), seen, (alpha,))[0]


def _nan_mean_std(filled: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nanmean`` and ``np.nanstd`` per row, with their arithmetic (the sum of the observed values
    over their count, NaN for an empty row)."""
    n = seen.sum(1)
    mean = filled.sum(1) / n
    dev = np.where(seen, filled - mean[:, None], 0.0)
    return mean, np.sqrt((dev * dev).sum(1) / n)


def _observed(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    seen = ~np.isnan(grid)
    return np.where(seen, grid, 0.0), seen


GBM_FEATURES = (
    [f"lag_{k}" for k in range(8)]
    + ["last", "recent_mean", "window_mean", "window_std", "window_min", "window_max", "n_window",
       "slope_8w", "slope_16w", "ewm_0.3", "ewm_0.6", "mean_abs_diff", "weeks_since_start", "baseline",
       "last_minus_baseline", "n_visits", "horizon"]
)


def gbm_base_features(w: ForecastWindows) -> np.ndarray:
    """Horizon-independent lag/rolling features (N, len(GBM_FEATURES) - 1).

    A statistic of an empty slice is NaN, which LightGBM treats as missing.
    """
    g = w.grid
    with np.errstate(all="ignore"):
        filled, seen = _observed(g)
        mean, std = _nan_mean_std(filled, seen)
        ewm_3, ewm_6 = _ewms(filled, seen, (0.3, 0.6))
        mean_abs_diff = _nan_mean_std(*_observed(np.abs(np.diff(g, axis=1))))[0]
        cols = [
            g[:, ::-1][:, :8],
            w.last[:, None], w.recent_mean[:, None], mean[:, None], std[:, None],
            np.fmin.reduce(g, 1)[:, None], np.fmax.reduce(g, 1)[:, None], seen.sum(1)[:, None],  # nanmin, nanmax
            _nan_slope(filled[:, -8:], seen[:, -8:])[:, None], _nan_slope(filled, seen)[:, None],
            ewm_3[:, None], ewm_6[:, None], mean_abs_diff[:, None],
            w.context[:, :1] * 52, w.context[:, 1:2], (w.last - w.context[:, 1])[:, None], w.context[:, 2:3] * 52,
        ]
    return np.hstack(cols)


def gbm_rows(base: np.ndarray, horizons: np.ndarray) -> np.ndarray:
    """Stack one row per (window, horizon), horizon as the last feature."""
    n = len(base)
    return np.hstack([np.repeat(base, len(horizons), 0), np.tile(horizons, n)[:, None].astype(float)])
