"""Held-out evaluation on freshly simulated patients (a seed the models never saw).

* Forecast: MAE per horizon of the ensemble, its members and the naive baselines (last
  value; mean of the last k visits, k in 2, 3, 4, 6, 8); the gain over the best naive
  baseline (picked per horizon on the test set) with a patient-level bootstrap CI; conformal
  coverage and mean width against a naive empirical interval (last value +- the 90% quantile
  of |h-week change| measured on a separate simulated cohort).
* Deterioration: AUROC of GRU and logistic baseline (with a patient-bootstrap CI of the
  difference), expected calibration error and Brier score; optionally the same for extra
  models (the no-GRU ablation in ``bench/forecast.py``).
* Correlation: how often the planted sleep lag is recovered, and how often the null
  biometric (resting heart rate) is declared associated at any lag.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from .correlation import correlate
from .datasets import deterioration_samples, forecast_windows
from .deterioration import expected_calibration_error
from .deterioration_features import DeteriorationSamples
from .forecast_features import ForecastWindows, recent_mean
from .forecaster import ALPHA, MEMBERS
from .instruments import INSTRUMENTS
from .predictors import DeteriorationPredictor, ForecastPredictor
from .schemas import H_MAX, BiometricCorrelationRequest
from .simulator import simulate_cohort, simulate_patient

EVAL_SEED = 20_261_123  # distinct from every training seed used in this package
NAIVE_MEAN_WINDOWS = (2, 3, 4, 6, 8)


def _bootstrap_gain(groups: np.ndarray, base_err: np.ndarray, model_err: np.ndarray, rng: np.random.Generator,
                    n_boot: int = 2000) -> tuple[float, float]:
    """95% CI of (base MAE - model MAE), resampling patients."""
    ids, inv = np.unique(groups, return_inverse=True)
    d = np.bincount(inv, weights=base_err - model_err, minlength=len(ids))
    c = np.bincount(inv, minlength=len(ids)).astype(float)
    draws = rng.integers(0, len(ids), (n_boot, len(ids)))
    gains = d[draws].sum(1) / c[draws].sum(1)
    return float(np.quantile(gains, 0.025)), float(np.quantile(gains, 0.975))


def naive_interval_half_widths(w: ForecastWindows) -> np.ndarray:
    """90% quantile of |y(t+h) - y(t)| per horizon (unit scale)."""
    out = np.empty(H_MAX)
    for h in range(H_MAX):
        ch = np.abs(w.targets[:, h] - w.last)
        out[h] = np.quantile(ch[~np.isnan(ch)], 1 - ALPHA)
    return out


def evaluate_forecast(predictor: ForecastPredictor, *, n_patients: int = 200, seed: int = EVAL_SEED,
                      instrument: str = "PHQ-9", gain_horizons: tuple[int, ...] = (1, 4)) -> dict[str, Any]:
    model = predictor.model
    inst = INSTRUMENTS[instrument]
    test = forecast_windows(simulate_cohort(n_patients, seed), [instrument])
    naive_q = naive_interval_half_widths(forecast_windows(simulate_cohort(n_patients, seed + 1), [instrument]))
    members = model.members(test)
    point = model.served(test, members)[0]
    half = model.half_width(instrument)
    # Naive forecasts: the last score, and the mean of the last k visits for several k.
    naive = {"last_value": test.last, **{f"mean_last_{n}": recent_mean(test.grid, n) for n in NAIVE_MEAN_WINDOWS}}
    rng = np.random.default_rng(seed)
    per_h = []
    for h in range(H_MAX):
        y = test.targets[:, h]
        k = ~np.isnan(y)
        err = np.abs(point[k, h] - y[k]) * inst.span
        member_mae = {m: float(np.abs(members[k, h, j] - y[k]).mean() * inst.span) for j, m in enumerate(MEMBERS)}
        naive_mae = {name: float(np.abs(f[k] - y[k]).mean() * inst.span) for name, f in naive.items()}
        best_naive = min(naive_mae, key=naive_mae.__getitem__)  # chosen on the test set itself: a strict comparison
        naive_err = np.abs(naive[best_naive][k] - y[k]) * inst.span
        # Intervals exactly as the job reports them (simulated scores are whole numbers).
        y_pts = inst.unscale(y[k])
        _, lo, hi = inst.interval(point[k, h], half[h], inst.integer_scores)
        _, nlo, nhi = inst.interval(test.last[k], naive_q[h], inst.integer_scores)
        row = {
            "horizon": h + 1, "n": int(k.sum()), "mae_ensemble": float(err.mean()), **{f"mae_{m}": v for m, v in
                                                                                        member_mae.items()},
            "naive_mae": naive_mae, "best_naive": best_naive, "mae_best_naive": naive_mae[best_naive],
            "gain_vs_best_naive": float(naive_err.mean() - err.mean()),
            "coverage": float(((y_pts >= lo - 1e-9) & (y_pts <= hi + 1e-9)).mean()),
            "mean_width": float((hi - lo).mean()),
            "naive_interval_coverage": float(((y_pts >= nlo - 1e-9) & (y_pts <= nhi + 1e-9)).mean()),
            "naive_interval_mean_width": float((nhi - nlo).mean()),
        }
        last_err = np.abs(test.last[k] - y[k]) * inst.span
        row["gain_vs_last_value"] = float(last_err.mean() - err.mean())
        if h + 1 in gain_horizons:
            row["gain_ci95"] = list(_bootstrap_gain(test.group[k], naive_err, err, rng))
            row["gain_vs_last_value_ci95"] = list(_bootstrap_gain(test.group[k], last_err, err, rng))
        per_h.append(row)
    return {"instrument": instrument, "n_patients": n_patients, "n_windows": len(test), "seed": seed,
            "model_version": predictor.version, "horizons": per_h}


def _auroc_gain_ci(labels: np.ndarray, groups: np.ndarray, a: np.ndarray, b: np.ndarray,
                   rng: np.random.Generator, n_boot: int) -> list[float]:
    """95% CI of AUROC(a) - AUROC(b), resampling patients."""
    ids, inv = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inv == i) for i in range(len(ids))]
    diffs = []
    for _ in range(n_boot):
        idx = np.concatenate([members[i] for i in rng.integers(0, len(ids), len(ids))])
        if 0 < labels[idx].mean() < 1:
            diffs.append(roc_auc_score(labels[idx], a[idx]) - roc_auc_score(labels[idx], b[idx]))
    return [float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))]


def evaluate_deterioration(predictor: DeteriorationPredictor, *, n_patients: int = 200,
                           seed: int = EVAL_SEED, n_boot: int = 500,
                           extra: dict[str, Callable[[DeteriorationSamples], np.ndarray]] | None = None
                           ) -> dict[str, Any]:
    """Held-out AUROC / ECE / Brier; ``extra`` maps a name to more probability functions to compare."""
    test = deterioration_samples(simulate_cohort(n_patients, seed))
    proba = predictor.models.proba(test)
    proba.update({name: f(test) for name, f in (extra or {}).items()})
    out: dict[str, Any] = {"n_samples": len(test), "n_patients": n_patients, "seed": seed,
                           "positive_rate": float(test.label.mean()), "served": predictor.models.served,
                           "model_version": predictor.version}
    for name, p in proba.items():
        out[name] = {"auroc": float(roc_auc_score(test.label, p)), "ece": expected_calibration_error(p, test.label),
                     "brier": float(brier_score_loss(test.label, p))}
    rng = np.random.default_rng(seed)
    out["auroc_gain_gru_vs_logistic"] = out["gru"]["auroc"] - out["logistic"]["auroc"]
    out["auroc_gain_ci95"] = _auroc_gain_ci(test.label, test.group, proba["gru"], proba["logistic"], rng, n_boot)
    for name in extra or {}:
        for base in ("logistic", "gru"):
            out[f"auroc_gain_{name}_vs_{base}"] = out[name]["auroc"] - out[base]["auroc"]
            out[f"auroc_gain_{name}_vs_{base}_ci95"] = _auroc_gain_ci(test.label, test.group, proba[name],
                                                                      proba[base], rng, n_boot)
    return out


def evaluate_correlation(*, n_patients: int = 30, seed: int = EVAL_SEED, sleep_lag_days: int = 3,
                         n_weeks: int = 40) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    found, lags, null_hits, n = 0, [], 0, 0
    expected = {"hrv": 0, "steps": 1}
    other_hits = dict.fromkeys(expected, 0)
    while n < n_patients:
        p = simulate_patient(rng, n, sleep_lag_days=sleep_lag_days, n_weeks=n_weeks)
        if np.isnan(p.biometrics["sleep_hours"]).all():
            continue  # no wearable: nothing to correlate
        n += 1
        # the simulator gives JSON-like records, validated like an API payload
        req = BiometricCorrelationRequest.model_validate(
            {"instrument": "mood", "symptoms": p.mood_observations(), "biometrics": p.biometric_records()})
        res = correlate(req)["biometrics"]
        sleep = res["sleep_hours"]
        lags.append(sleep.get("best_lag_days"))
        found += sleep.get("best_lag_days") == sleep_lag_days
        null_hits += bool(res["resting_hr"].get("association"))
        for k, lag in expected.items():
            other_hits[k] += res[k].get("best_lag_days") == lag
    return {"n_patients": n, "planted_sleep_lag_days": sleep_lag_days,
            "sleep_lag_recovered_rate": found / n, "sleep_best_lags": lags,
            "null_biometric_false_association_rate": null_hits / n,
            "hrv_lag0_recovered_rate": other_hits["hrv"] / n, "steps_lag1_recovered_rate": other_hits["steps"] / n}


def throughput(run, payloads: list[dict], *, min_seconds: float = 2.0) -> dict[str, float]:
    """Calls per wall second and per CPU second of ``run(payload)``.

    On a shared machine the per-CPU-second rate is the per-core capacity; the wall rate is
    what this process got.
    """
    run(payloads[0])  # warm-up
    done, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
    while True:
        for p in payloads:
            run(p)
        done += len(payloads)
        wall = time.perf_counter() - wall0
        if wall >= min_seconds:
            return {"per_wall_s": done / wall, "per_cpu_s": done / max(time.process_time() - cpu0, 1e-9)}
