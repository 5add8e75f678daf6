from datetime import date, timedelta

import numpy as np

from forecasting.evaluation import evaluate_correlation
from forecasting.service import run_biometric_correlation
from forecasting.simulator import simulate_patient


def _payload(n_days=120, lag=2, seed=0, symptom_every=1):
    rng = np.random.default_rng(seed)
    start = date(2024, 3, 1)
    sleep = 7 + rng.normal(0, 1, n_days)
    noise_bio = 60 + rng.normal(0, 3, n_days)
    mood = np.clip(np.round(6 + 1.2 * (np.roll(sleep, lag) - 7) + rng.normal(0, 0.8, n_days)), 1, 10)
    return {
        "instrument": "mood",
        "symptoms": [{"timestamp": (start + timedelta(d)).isoformat(), "value": float(mood[d])}
                     for d in range(lag, n_days, symptom_every)],
        "biometrics": [{"date": (start + timedelta(d)).isoformat(), "sleep_hours": float(sleep[d]),
                        "resting_hr": float(noise_bio[d])} for d in range(n_days)],
    }


def test_recovers_the_lag_and_rejects_the_null():
    out = run_biometric_correlation(_payload(lag=2))
    assert out["status"] == "ok"
    sleep, rhr = out["biometrics"]["sleep_hours"], out["biometrics"]["resting_hr"]
    assert sleep["association"] and sleep["best_lag_days"] == 2 and sleep["r"] > 0.5
    lo, hi = sleep["ci95"]
    assert lo < sleep["r"] < hi
    assert not rhr["association"]
    assert out["n_tests"] == 2 * 8


def test_adjusted_p_values_are_bh():
    out = run_biometric_correlation(_payload(lag=1, seed=4))
    tests = [r for b in out["biometrics"].values() for r in b["lags"] if r["status"] == "tested"]
    p = np.array([t["p_value"] for t in tests])
    q = np.array([t["p_adjusted"] for t in tests])
    assert np.all(q >= p - 1e-12)
    order = np.argsort(p)
    assert np.all(np.diff(q[order]) >= -1e-12)  # BH-adjusted values are monotone in p


def test_refuses_to_conclude_on_little_overlap():
    out = run_biometric_correlation(_payload(n_days=60, symptom_every=7))  # weekly scores: ~8 overlapping days
    assert out["status"] == "insufficient_overlap"
    assert all(b["status"] == "insufficient_overlap" for b in out["biometrics"].values())
    assert "no conclusion" in out["biometrics"]["sleep_hours"]["conclusion"]


def test_simulated_patient_planted_lag():
    rng = np.random.default_rng(123)
    p = simulate_patient(rng, 0, n_weeks=45)
    while np.isnan(p.biometrics["sleep_hours"]).all():
        p = simulate_patient(rng, 0, n_weeks=45)
    out = run_biometric_correlation({"instrument": "mood", "symptoms": p.mood_observations(),
                                     "biometrics": p.biometric_records()})
    assert out["biometrics"]["sleep_hours"]["best_lag_days"] == p.sleep_lag_days
    assert not out["biometrics"]["resting_hr"]["association"]


def test_cohort_recovery_rates():
    res = evaluate_correlation(n_patients=20, seed=99)
    assert res["sleep_lag_recovered_rate"] >= 0.75
    assert res["null_biometric_false_association_rate"] <= 0.10
