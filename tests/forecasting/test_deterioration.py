import pytest

from forecasting.evaluation import evaluate_deterioration
from forecasting.service import run_deterioration
from forecasting.simulator import simulate_cohort


@pytest.fixture(scope="module")
def report(deterioration_model):
    return evaluate_deterioration(deterioration_model, n_patients=120, n_boot=100)


def test_gru_at_least_matches_logistic_and_is_informative(report):
    assert report["gru"]["auroc"] >= report["logistic"]["auroc"] - 0.01
    assert report["gru"]["auroc"] > 0.7 and report["logistic"]["auroc"] > 0.7


def test_probabilities_are_calibrated(report):
    for name in ("gru", "logistic"):
        assert report[name]["ece"] < 0.05


def test_result_with_and_without_biometrics(deterioration_model):
    p = next(q for q in simulate_cohort(10, seed=8) if q.biometric_records())
    obs = p.observations("PHQ-9")[:10]
    last_day = (len(obs) + 2) * 7
    with_bio = run_deterioration({"instrument": "PHQ-9", "observations": obs,
                                  "biometrics": p.biometric_records(0, last_day)}, deterioration_model)
    without = run_deterioration({"instrument": "PHQ-9", "observations": obs}, deterioration_model)
    assert with_bio["used_biometrics"] and not without["used_biometrics"]
    for out in (with_bio, without):
        assert 0 < out["probability"] < 1
        assert out["model_version"] == deterioration_model.version
        assert len(out["top_features"]) == 5 and len(out["baseline_top_features"]) == 5
        assert "+5" in out["definition"]


def test_mood_worsening_is_downwards(deterioration_model):
    obs = [{"timestamp": f"2024-01-{d:02d}", "value": v} for d, v in [(1, 6), (8, 7), (15, 6), (22, 7)]]
    out = run_deterioration({"instrument": "mood", "observations": obs}, deterioration_model)
    assert "-2" in out["definition"]


def test_daily_series_is_resampled_to_the_weekly_cadence_it_was_trained_on(deterioration_model):
    p = simulate_cohort(1, seed=2)[0]
    out = run_deterioration({"instrument": "mood", "observations": p.mood_observations()[:60]}, deterioration_model)
    assert out["resampled_to_weekly"] and "weekly mean" in out["definition"]
    assert 0.005 < out["probability"] < 0.995
