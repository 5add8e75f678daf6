"""Classical per-series forecasts from statsforecast, as ensemble members (issue 15).

Each member is fitted afresh on one window's own weekly scores (the last ``WINDOW_WEEKS`` bins up
to the origin, unit scale): nothing is learned across patients, so these members cannot learn a
population that is not the deployment's. Missed weeks are carried forward from the previous
visit (statsforecast models need a gap-free series); bins before the first visit are left out.

Which members are kept was measured, not assumed (README, issue 15): a member stays only if it
earns weight in the ensemble on some population and is fast enough to refit on every origin a
request's per-series fallback re-forecasts (13 fits a request). Per 16-week window on one core:
SES 0.004 ms, WindowAverage 0.004 ms, Theta 0.3-0.6 ms, OptimizedTheta 0.8 ms, Holt 2 ms, AutoTheta
3.8 ms, AutoETS 8.3 ms (AutoETS alone would cap serving near 10 forecasts per CPU-second, and it lost
to the last value at week 4 in the issue's own figures). RandomWalkWithDrift was worse than the last
value on every family at weeks 1 and 4, so it is not a member. Theta was a member in the first
measurement: it took weights of 0.09 at one horizon, moved no family's served MAE beyond noise and cut
serving throughput by about 30%, so it was dropped.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from .forecast_features import ForecastWindows
from .schemas import H_MAX


@cache
def _factories() -> dict[str, Callable[[], Any]]:
    # imported on first use: statsforecast pulls in statsmodels (seconds), which a process that
    # never forecasts (API, llm worker) should not pay for
    from statsforecast.models import SimpleExponentialSmoothingOptimized, WindowAverage

    return {
        "ses": SimpleExponentialSmoothingOptimized,
        "window_average": lambda: WindowAverage(window_size=4),
    }


def filled(row: np.ndarray) -> np.ndarray:
    """The window's bins from its first visit on, missed weeks carried forward."""
    seen = ~np.isnan(row)
    if not seen.any():
        return row[:0]
    idx = np.where(seen, np.arange(len(row)), 0)
    np.maximum.accumulate(idx, out=idx)
    return row[idx][int(np.argmax(seen)):]


def stats_forecasts(w: ForecastWindows, names: tuple[str, ...]) -> np.ndarray:
    """(N, H_MAX, len(names)) unit-scale forecasts; the last value where a series is too short to fit."""
    out = np.repeat(np.repeat(w.last[:, None, None], H_MAX, 1), len(names), 2)
    if not names:
        return out
    factories = _factories()
    models = [factories[n]() for n in names]
    for i, row in enumerate(w.grid):
        y = filled(row)
        if len(y) < 3:
            continue
        for j, m in enumerate(models):
            try:
                f = np.asarray(m.forecast(y=y, h=H_MAX)["mean"], float)
            except Exception:  # a degenerate series the model cannot fit keeps the last value
                continue
            if np.isfinite(f).all():
                out[i, :, j] = f
    return np.clip(out, 0.0, 1.0)
