"""Loaded models that answer one validated request each; every result names its version."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import numpy as np

from .deterioration import DeteriorationModels
from .deterioration_features import BIOMETRIC_GROUPS, FEATURES, SEQ_DAYS, SYMPTOM_FEATURES, empty_biometrics, sample_at
from .forecast_features import request_windows
from .forecaster import ALPHA, MEMBERS, ForecastEnsemble
from .gating import CHECK_ORIGINS, MIN_CHECKS, SHRINK
from .instruments import INSTRUMENTS
from .schemas import MIN_DETERIORATION_OBS, DeteriorationRequest, ForecastRequest
from .series import biometric_matrix, observation_days, weekly_grid


def _r(x: float, nd: int = 2) -> float:
    return round(float(x), nd)


def _weekly_if_dense(days: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Daily-ish series (median gap < 4 days) become weekly means, the cadence the models know.

    Kept as is when fewer than ``MIN_DETERIORATION_OBS`` weeks would remain.
    """
    if len(days) < 2 or np.median(np.diff(days)) >= 4:
        return days, values
    n_weeks = int(np.round((days[-1] - days[0]) / 7.0)) + 1
    grid = weekly_grid(days, values, days[-1], n_weeks)
    keep = ~np.isnan(grid)
    if keep.sum() < MIN_DETERIORATION_OBS:
        return days, values
    week_days = days[-1] - 7.0 * (n_weeks - 1 - np.arange(n_weeks))
    return week_days[keep], grid[keep]


_LAST_VALUE = np.eye(len(MEMBERS))[MEMBERS.index("last_value")]  # member weights of the naive forecast


class ForecastPredictor:
    kind = "forecast"

    def __init__(self, model: ForecastEnsemble, name: str, version: str) -> None:
        self.model, self.name, self.version = model, name, version

    def predict(self, request: ForecastRequest | Mapping[str, Any]) -> dict[str, Any]:
        req = request if isinstance(request, ForecastRequest) else ForecastRequest.model_validate(request)
        inst = INSTRUMENTS[req.instrument]
        days, values = observation_days(req.observations)
        windows = request_windows(days, values, req.instrument, CHECK_ORIGINS)  # last row: this request
        point, share = self.model.served_last(windows)
        half = self.model.half_width(req.instrument)
        anchor = req.observations[-1].timestamp
        weights = share[:, None] * self.model.weights + (1 - share[:, None]) * _LAST_VALUE  # what was served
        integer = inst.integer_scores and bool(np.all(values == np.round(values)))
        pts, lows, highs = inst.interval(point[: req.horizon], half[: req.horizon], integer)
        # Python floats row by row: indexing numpy arrays element-wise costs more than the rest of the dict
        served = share[: req.horizon].tolist(), weights[: req.horizon].tolist()
        rows = zip(pts.tolist(), lows.tolist(), highs.tolist(), *served, strict=True)
        steps = [{
            "week": h, "date": (anchor + timedelta(weeks=h)).date().isoformat(),
            "point": _r(p), "lower": _r(lo), "upper": _r(hi),
            "ensemble_share": _r(s, 3),  # 0: the last value, 1: the ensemble as fitted
            "weights": {m: _r(w) for m, w in zip(MEMBERS, ws, strict=True) if w > 0},
        } for h, (p, lo, hi, s, ws) in enumerate(rows, 1)]
        used = weights[: req.horizon].mean(0)
        return {
            "model_name": self.name,
            "model_version": self.version,
            "instrument": req.instrument,
            "range": [inst.low, inst.high],
            "last_observation": anchor.isoformat(),
            "horizon_weeks": req.horizon,
            "interval_level": 1 - ALPHA,
            "interval_method": "split-conformal, absolute residuals of the served forecast per horizon on held-out "
                               "patients"
                               + ("; bounds rounded inwards to whole scores" if integer else "")
                               + ("" if req.instrument in self.model.conformal else
                                  f"; {req.instrument} was not in the training data, pooled calibration used"),
            "forecasts": steps,
            "fallback": "per horizon, the last value plus the share of the ensemble's move that paid off on this "
                        f"series' own previous {CHECK_ORIGINS} forecast origins, shrunk by {SHRINK:g} pseudo-checks "
                        f"toward the model's prior share (below {MIN_CHECKS} known outcomes: the prior alone)",
            "prior_share": [_r(x, 2) for x in self.model.prior_share[: req.horizon].tolist()],
            "models": [{"name": m, "mean_weight": _r(w, 3)} for m, w in zip(MEMBERS, used.tolist(), strict=True) if w > 0],
        }


class DeteriorationPredictor:
    kind = "deterioration"

    def __init__(self, models: DeteriorationModels, name: str, version: str, top_k: int = 5) -> None:
        self.models, self.name, self.version, self.top_k = models, name, version, top_k

    def _sample(self, req: DeteriorationRequest) -> tuple[np.ndarray, np.ndarray, bool, int, bool]:
        inst = INSTRUMENTS[req.instrument]
        days, values = _weekly_if_dense(*observation_days(req.observations))
        resampled = len(days) != len(req.observations)
        anchor = int(np.floor(days[-1]))
        bio = (biometric_matrix(req.biometrics, anchor - SEQ_DAYS + 1, anchor) if req.biometrics
               else empty_biometrics())
        feats, seq = sample_at(days, inst.scale(values), len(days) - 1, bio, inst.deterioration_delta / inst.span)
        return feats, seq, bool(np.isfinite(bio).any()), anchor, resampled

    def _occlusion(self, feats: np.ndarray, seq: np.ndarray) -> list[dict[str, Any]]:
        """Change in the served probability when one input is replaced by 'typical/absent'."""
        gru = self.models.gru
        variants_f, variants_s, names = [feats], [seq], ["(none)"]
        for i, name in enumerate(SYMPTOM_FEATURES):
            f = feats.copy()
            f[i] = gru.scaler.mean[i]
            variants_f.append(f)
            variants_s.append(seq)
            names.append(name)
        for bio, (fnames, channels) in BIOMETRIC_GROUPS.items():
            f, s = feats.copy(), seq.copy()
            for fname in fnames:
                k = FEATURES.index(fname)
                f[k] = 0.0  # the value used when the wearable is absent
            s[:, list(channels)] = 0.0
            variants_f.append(f)
            variants_s.append(s)
            names.append(bio)
        p = gru.proba(np.stack(variants_s), np.stack(variants_f))
        effects = p[0] - p[1:]
        order = np.argsort(-np.abs(effects))[: self.top_k]
        return [{"feature": names[1 + i], "effect": _r(effects[i], 4)} for i in order]

    def predict(self, request: DeteriorationRequest | Mapping[str, Any]) -> dict[str, Any]:
        req = request if isinstance(request, DeteriorationRequest) else DeteriorationRequest.model_validate(request)
        inst = INSTRUMENTS[req.instrument]
        feats, seq, has_bio, anchor, resampled = self._sample(req)
        p_gru = float(self.models.gru.proba(seq[None], feats[None])[0])
        p_lr = float(self.models.logistic.proba(feats[None])[0])
        contrib = self.models.logistic.contributions(feats[None])[0]
        lr_top = [{"feature": FEATURES[i], "value": _r(feats[i], 4), "log_odds": _r(contrib[i], 4)}
                  for i in np.argsort(-np.abs(contrib))[: self.top_k]]
        served = self.models.served
        worse = "+" if inst.higher_is_worse else "-"
        return {
            "model_name": self.name,
            "model_version": self.version,
            "instrument": req.instrument,
            "definition": f"{req.instrument} {worse}{inst.deterioration_delta:g} or worse versus the last "
                          + ("weekly mean score" if resampled else f"score ({req.observations[-1].value:g})")
                          + " at any visit within 4 weeks",
            "resampled_to_weekly": resampled,
            "probability": _r(p_gru if served == "gru" else p_lr, 4),
            "calibration": "Platt scaling on held-out calibration patients",
            "model": "gru" if served == "gru" else "logistic",
            "baseline_probability": _r(p_lr, 4),
            "used_biometrics": has_bio,
            # the models were trained with the wearable window ending on the day of the last score
            "biometric_window": [date.fromordinal(anchor - SEQ_DAYS + 1).isoformat(),
                                 date.fromordinal(anchor).isoformat()],
            "top_features": self._occlusion(feats, seq) if served == "gru" else lr_top,
            "top_features_method": ("occlusion: served probability minus the probability with the input set to "
                                    "its training mean (symptom features) or removed (biometrics)")
            if served == "gru" else "logistic coefficient x standardised value (log-odds)",
            "baseline_top_features": lr_top,
        }
