import numpy as np
import pytest

from forecasting.simulator import simulate_cohort


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(150, seed=7)


def test_same_seed_same_cohort():
    a, b = simulate_cohort(5, seed=3), simulate_cohort(5, seed=3)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.visits["PHQ-9"][1], q.visits["PHQ-9"][1])
        np.testing.assert_array_equal(p.biometrics["sleep_hours"], q.biometrics["sleep_hours"])


def test_retest_noise_is_realistic(cohort):
    resid = np.concatenate([v - p.latent[d] for p in cohort for d, v in [p.visits["PHQ-9"]]])
    assert 2.0 <= resid.std() <= 3.0
    # consecutive weekly scores move by several points even without a real change
    diffs = np.concatenate([np.diff(p.visits["PHQ-9"][1]) for p in cohort])
    assert np.abs(diffs).mean() > 2.5


def test_missed_visits_and_gaps(cohort):
    missed = [1 - len(p.visits["PHQ-9"][0]) / len(p.scheduled_visit_days) for p in cohort]
    assert 0.1 < np.mean(missed) < 0.3
    gaps = [np.diff(p.visits["PHQ-9"][0]).max() for p in cohort]
    assert max(gaps) >= 21  # some patients miss several visits in a row


def test_course_types_and_relapses(cohort):
    kinds = {p.kind for p in cohort}
    assert kinds == {"responder", "partial", "non_responder"}
    change = {k: np.mean([p.latent[-7:].mean() - p.latent[:7].mean() for p in cohort if p.kind == k]) for k in kinds}
    assert change["responder"] < -4 and change["non_responder"] > -1.5
    assert sum(len(p.relapse_onsets) for p in cohort) >= 30


def _mean_lag_corr(cohort, name, max_lag=7):
    out = np.zeros(max_lag + 1)
    n = 0
    for p in cohort:
        x = p.biometrics[name]
        if np.isnan(x).all():
            continue
        n += 1
        for k in range(max_lag + 1):
            a, b = x[: len(x) - k], p.latent[k:]
            ok = ~np.isnan(a)
            out[k] += np.corrcoef(a[ok], b[ok])[0, 1]
    return out / n


@pytest.mark.parametrize("lag", [3, 5])
def test_sleep_leads_symptoms_by_the_planted_lag(lag):
    corr = _mean_lag_corr(simulate_cohort(60, seed=11, sleep_lag_days=lag), "sleep_hours")
    assert int(np.argmin(corr)) == lag  # less sleep -> worse symptoms, strongest at the lag


def test_null_biometric_is_unrelated(cohort):
    assert np.abs(_mean_lag_corr(cohort, "resting_hr")).max() < 0.05


def test_some_patients_have_no_wearable(cohort):
    none = [np.isnan(p.biometrics["sleep_hours"]).all() for p in cohort]
    assert 0.05 < np.mean(none) < 0.4
    with_wearable = [p for p, n in zip(cohort, none, strict=True) if not n]
    frac_missing = np.mean([np.isnan(p.biometrics["hrv"]).mean() for p in with_wearable])
    assert 0.08 < frac_missing < 0.25
