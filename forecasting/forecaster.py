"""The forecasting ensemble: attention model + LightGBM + two naive members.

Members are combined per horizon with non-negative weights summing to one, chosen by grid
search on validation patients. Keeping the naive forecasts (last value, mean of recent
visits) as members means the ensemble can fall back to them where the learned models do
not help on average; ``gating`` adds the per-series fallback (toward the last value wherever the
combination did not beat it on that series' own past; see ``gating``).
Intervals are split-conformal: per instrument and horizon, the ceil((n+1)(1-alpha))/n
quantile of absolute residuals of the served forecast on patients that took no part in
training or weighting.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from .attention import WindowAttention, predict_attention, train_attention
from .forecast_features import GBM_FEATURES, ForecastWindows, gbm_base_features, gbm_rows
from .gating import choose_prior, read_by_serve_last, serve, serve_last
from .schemas import H_MAX

MEMBERS = ("attention", "lightgbm", "last_value", "recent_mean")
ALPHA = 0.10
POOLED = "*"


def _simplex(step: float, k: int) -> np.ndarray:
    n = round(1 / step)
    pts = [c for c in itertools.product(range(n + 1), repeat=k - 1) if sum(c) <= n]
    return np.array([[*c, n - sum(c)] for c in pts], dtype=float) / n


def train_lightgbm(train: ForecastWindows, val: ForecastWindows, *, seed: int,
                   threads: int) -> tuple[lgb.Booster, dict]:
    horizons = np.arange(1, H_MAX + 1)

    def dataset(w: ForecastWindows, reference=None) -> lgb.Dataset:
        x = gbm_rows(gbm_base_features(w), horizons)
        y = (w.targets - w.last[:, None]).reshape(-1)  # learn the change from the last score
        keep = ~np.isnan(y)
        return lgb.Dataset(x[keep], y[keep], feature_name=GBM_FEATURES, reference=reference, free_raw_data=False)

    dtrain = dataset(train)
    dval = dataset(val, dtrain)
    params = dict(objective="l1", learning_rate=0.05, num_leaves=15, min_data_in_leaf=100, feature_fraction=0.8,
                  bagging_fraction=0.8, bagging_freq=1, lambda_l2=1.0, seed=seed, deterministic=True,
                  force_row_wise=True, num_threads=threads, verbose=-1)
    booster = lgb.train(params, dtrain, num_boost_round=400, valid_sets=[dval],
                        callbacks=[lgb.early_stopping(30, verbose=False)])
    return booster, {"best_iteration": booster.best_iteration}


def predict_lightgbm(booster: lgb.Booster, w: ForecastWindows, pairs: np.ndarray | None = None) -> np.ndarray:
    """(N, H_MAX) unit-scale forecasts; with ``pairs`` ((N, H_MAX) bool) only those, NaN elsewhere.

    LightGBM predicts each (window, horizon) row on its own, so a subset gets the same values.
    """
    x = gbm_rows(gbm_base_features(w), np.arange(1, H_MAX + 1))
    keep = slice(None) if pairs is None else pairs.reshape(-1)
    delta = np.full(len(x), np.nan)
    # a dense input gives a dense ndarray (the stubs also allow sparse and list results)
    delta[keep] = np.asarray(booster.predict(x[keep], num_iteration=booster.best_iteration or None, num_threads=1))
    return w.last[:, None] + delta.reshape(len(w), H_MAX)


@dataclass
class ForecastEnsemble:
    attention: WindowAttention
    booster: lgb.Booster
    weights: np.ndarray  # (H_MAX, len(MEMBERS))
    conformal: dict[str, list[float]]  # instrument (or "*") -> unit-scale half-width per horizon
    prior_share: np.ndarray  # (H_MAX,) share of the learned move served before a series shows its own record

    def members(self, w: ForecastWindows, pairs: np.ndarray | None = None) -> np.ndarray:
        """(N, H_MAX, len(MEMBERS)) unit-scale member forecasts; ``pairs``: see ``predict_lightgbm``."""
        naive_last = np.repeat(w.last[:, None], H_MAX, 1)
        naive_mean = np.repeat(w.recent_mean[:, None], H_MAX, 1)
        return np.stack([predict_attention(self.attention, w), predict_lightgbm(self.booster, w, pairs),
                         naive_last, naive_mean], -1)

    def point(self, w: ForecastWindows, members: np.ndarray | None = None) -> np.ndarray:
        m = self.members(w) if members is None else members
        return np.clip(np.einsum("nhk,hk->nh", m, self.weights), 0.0, 1.0)

    def served(self, w: ForecastWindows, members: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(point, ensemble share): what the job serves; ``w`` must hold the series' earlier origins too."""
        return serve(w, self.point(w, members), self.prior_share)

    def served_last(self, w: ForecastWindows) -> tuple[np.ndarray, np.ndarray]:
        """``served`` at the last row of one series' windows (``request_windows``): a request.

        LightGBM runs only where the fallback reads the forecast (about half a request's rows)."""
        return serve_last(w, self.point(w, self.members(w, read_by_serve_last(w))), self.prior_share)

    def half_width(self, instrument: str) -> np.ndarray:
        return np.asarray(self.conformal.get(instrument, self.conformal[POOLED]))


def choose_weights(members: np.ndarray, targets: np.ndarray, step: float = 0.05) -> np.ndarray:
    """Per horizon, the simplex weights with the lowest validation MAE."""
    grid = _simplex(step, members.shape[-1])
    weights = np.zeros((H_MAX, members.shape[-1]))
    for h in range(H_MAX):
        known = ~np.isnan(targets[:, h])
        combo = members[known, h, :] @ grid.T  # (n, n_grid)
        mae = np.abs(combo - targets[known, h][:, None]).mean(0)
        weights[h] = grid[int(np.argmin(mae))]
    return weights


def conformal_half_widths(point: np.ndarray, w: ForecastWindows, alpha: float = ALPHA) -> dict[str, list[float]]:
    """Split-conformal |residual| quantiles per instrument and horizon (plus pooled)."""
    out: dict[str, list[float]] = {}
    for name in [POOLED, *sorted(set(w.instrument))]:
        rows = np.ones(len(w), bool) if name == POOLED else w.instrument == name
        widths = []
        for h in range(H_MAX):
            res = np.abs(point[rows, h] - w.targets[rows, h])
            res = res[~np.isnan(res)]
            level = min(np.ceil((len(res) + 1) * (1 - alpha)) / max(len(res), 1), 1.0)
            widths.append(float(np.quantile(res, level, method="higher")) if len(res) else float("inf"))
        out[name] = widths
    return out


def fit_ensemble(train: ForecastWindows, val: ForecastWindows, cal: ForecastWindows, *, seed: int,
                 threads: int = 1, prior: str = "none") -> tuple[ForecastEnsemble, dict]:
    """``prior``: "none" (share 0: the default model, fitted without the deployment's data, serves the last
    value until a series' own record shows the ensemble helps) or "validation" (per horizon, the prior
    share with the lowest MAE on ``val``: for models fitted on the deployment's data)."""
    attention, att_info = train_attention(train, val, seed=seed)
    booster, gbm_info = train_lightgbm(train, val, seed=seed, threads=threads)
    model = ForecastEnsemble(attention, booster, np.zeros((H_MAX, len(MEMBERS))), {}, np.zeros(H_MAX))
    val_members = model.members(val)
    model.weights = choose_weights(val_members, val.targets)
    if prior == "validation":
        model.prior_share = choose_prior(val, model.point(val, val_members))
    model.conformal = conformal_half_widths(model.served(cal)[0], cal)
    return model, {"attention": att_info, "lightgbm": gbm_info, "prior_share": model.prior_share.tolist()}
