"""Lagged biometric-symptom correlation with multiple-testing control.

Lag ``k`` pairs a biometric on day ``d`` with the symptom score on day ``d + k`` (the
biometric leads). Each (biometric, lag) pair with enough overlapping days is one test;
Benjamini-Hochberg runs across all of them.

Day-level series are autocorrelated (a bad week is several bad days), which makes the
textbook p-value far too small. Significance and the Fisher-z interval therefore use
Bartlett's effective sample size ``n / (1 + 2 * sum_k rho_x(k) rho_y(k))``; the
coefficients themselves come from ``scipy.stats``.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from .schemas import BIOMETRICS, BiometricCorrelationRequest
from .series import daily_symptoms, observation_days

_ACF_MAX_LAG = 30


def _detrend(day: np.ndarray, x: np.ndarray) -> np.ndarray:
    if len(x) < 3:
        return x - x.mean()
    slope, intercept = np.polyfit(day, x, 1)
    return x - (slope * day + intercept)


def _acf(grid: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation of a daily series with NaN gaps (pairwise-complete)."""
    x = grid - np.nanmean(grid)
    var = np.nanmean(x**2)
    out = np.zeros(max_lag + 1)
    out[0] = 1.0
    for k in range(1, max_lag + 1):
        a, b = x[:-k], x[k:]
        ok = ~np.isnan(a) & ~np.isnan(b)
        out[k] = np.mean(a[ok] * b[ok]) / var if ok.sum() > 5 and var > 0 else 0.0
    return out


def effective_n(n: int, acf_x: np.ndarray, acf_y: np.ndarray) -> float:
    """Bartlett/Pyper-Peterman effective number of independent pairs."""
    m = min(len(acf_x), len(acf_y), max(n // 4, 1) + 1)
    inflation = 1 + 2 * float(np.sum(acf_x[1:m] * acf_y[1:m]))
    return float(np.clip(n / max(inflation, 1.0), 4.0, n))


def _fisher_ci(r: float, n_eff: float, spearman: bool, level: float = 0.95) -> tuple[float, float]:
    # Spearman's z has a slightly wider spread (Fieller, Hartley & Pearson 1957).
    se = np.sqrt((1.06 if spearman else 1.0) / max(n_eff - 3, 1.0))
    z = np.arctanh(np.clip(r, -0.999999, 0.999999))
    q = stats.norm.ppf(0.5 + level / 2)
    return float(np.tanh(z - q * se)), float(np.tanh(z + q * se))


def _p_value(r: float, n_eff: float) -> float:
    df = max(n_eff - 2, 1.0)
    t = r * np.sqrt(df / max(1 - r * r, 1e-12))
    return float(2 * stats.t.sf(abs(t), df))


def correlate(req: BiometricCorrelationRequest) -> dict:
    sym_days, sym_values = observation_days(req.symptoms)
    symptoms = daily_symptoms(sym_days, sym_values)
    first = min(min(symptoms), min(b.date.toordinal() for b in req.biometrics))
    last = max(max(symptoms), max(b.date.toordinal() for b in req.biometrics))
    span = last - first + 1

    sym_grid = np.full(span, np.nan)
    for d, v in symptoms.items():
        sym_grid[d - first] = v
    if req.detrend:
        ok = ~np.isnan(sym_grid)
        sym_grid[ok] = _detrend(np.flatnonzero(ok).astype(float), sym_grid[ok])
    sym_acf = _acf(sym_grid, _ACF_MAX_LAG)
    spearman = req.method == "spearman"

    tests: list[dict] = []
    per_bio: dict[str, dict] = {}
    for name in BIOMETRICS:
        grid = np.full(span, np.nan)
        for rec in req.biometrics:
            v = getattr(rec, name)
            if v is not None:
                grid[rec.date.toordinal() - first] = v
        n_present = int((~np.isnan(grid)).sum())
        if n_present == 0:
            continue  # not supplied at all: not reported
        if req.detrend and n_present >= 3:
            ok = ~np.isnan(grid)
            grid[ok] = _detrend(np.flatnonzero(ok).astype(float), grid[ok])
        bio_acf = _acf(grid, _ACF_MAX_LAG)
        lags = []
        for lag in range(req.max_lag + 1):
            x, y = grid[: span - lag], sym_grid[lag:]
            ok = ~np.isnan(x) & ~np.isnan(y)
            n = int(ok.sum())
            row: dict = {"lag_days": lag, "n": n}
            if n < req.min_overlap or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
                row["status"] = "insufficient_overlap" if n < req.min_overlap else "constant_series"
            else:
                pear = stats.pearsonr(x[ok], y[ok])
                spear = stats.spearmanr(x[ok], y[ok])
                r = float(spear.statistic if spearman else pear.statistic)
                n_eff = effective_n(n, bio_acf, sym_acf)
                lo, hi = _fisher_ci(r, n_eff, spearman)
                row.update(
                    status="tested", r=r, ci95=[lo, hi], n_effective=round(n_eff, 1), p_value=_p_value(r, n_eff),
                    pearson_r=float(pear.statistic), spearman_r=float(spear.statistic),
                    p_value_naive=float(spear.pvalue if spearman else pear.pvalue),
                )
                tests.append(row)
            lags.append(row)
        per_bio[name] = {"lags": lags}

    if tests:
        adjusted = stats.false_discovery_control([t["p_value"] for t in tests], method="bh")
        for t, q in zip(tests, adjusted, strict=True):
            t["p_adjusted"] = float(q)
            t["significant"] = bool(q < req.alpha)

    for name, entry in per_bio.items():
        tested = [r for r in entry["lags"] if r["status"] == "tested"]
        if not tested:
            entry.update(status="insufficient_overlap", conclusion=(
                f"fewer than {req.min_overlap} days where {name} and the symptom score overlap at any lag; "
                "no conclusion drawn"))
            continue
        best = min(tested, key=lambda r: (r["p_adjusted"], -abs(r["r"])))
        entry["status"] = "ok"
        if best["significant"]:
            entry.update(association=True, best_lag_days=best["lag_days"], r=best["r"], ci95=best["ci95"],
                         p_adjusted=best["p_adjusted"],
                         conclusion=(f"{name} on day d is associated with {req.instrument} on day d+"
                                     f"{best['lag_days']} (r={best['r']:.2f}, BH-adjusted p={best['p_adjusted']:.3g})"))
        else:
            entry.update(association=False, best_lag_days=None, strongest_lag_days=best["lag_days"], r=best["r"],
                         ci95=best["ci95"], p_adjusted=best["p_adjusted"],
                         conclusion=f"no association of {name} with {req.instrument} at lags 0..{req.max_lag} "
                                    f"after Benjamini-Hochberg correction")

    status = "ok" if tests else "insufficient_overlap"
    return {
        "status": status,
        "instrument": req.instrument,
        "method": req.method,
        "alpha": req.alpha,
        "max_lag_days": req.max_lag,
        "min_overlap": req.min_overlap,
        "detrended": req.detrend,
        "n_tests": len(tests),
        "multiple_testing": "benjamini-hochberg across all biometric x lag tests",
        "lag_convention": "lag k pairs the biometric on day d with the symptom score on day d+k",
        "biometrics": per_bio,
    }
