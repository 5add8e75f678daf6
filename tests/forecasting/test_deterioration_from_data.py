"""Deterioration trained on a deployment's own lines (issue 15): same samples as the simulator's, a verdict."""
from __future__ import annotations

import numpy as np
import pytest

from forecasting.datasets import deterioration_samples
from forecasting.deterioration_backtest import deterioration_promotion, parse_deterioration, samples_from
from forecasting.simulator import simulate_cohort
from forecasting.training import train_deterioration_from_series


def _lines(patients):
    return [{"patient": str(p.pid), "instrument": "PHQ-9", "observations": p.observations("PHQ-9"),
             "biometrics": p.biometric_records(), "outcome": "ignored"} for p in patients]


def test_lines_give_exactly_the_simulator_samples():
    patients = simulate_cohort(10, 3)
    series, skipped = parse_deterioration([*_lines(patients), '{"instrument": "PHQ-9"}'])
    assert len(skipped) == 1
    ours, reference = samples_from(series), deterioration_samples(patients, ["PHQ-9"])
    np.testing.assert_allclose(ours.features, reference.features)
    np.testing.assert_allclose(ours.sequence, reference.sequence)
    assert (ours.label == reference.label).all() and len(ours) > 100


def test_promotion_rule():
    table = {"candidate": {"auroc": 0.70}, "logistic": {"auroc": 0.70}, "active": {"auroc": 0.69}}
    assert deterioration_promotion(table)["decision"] == "promoted"  # served logistic equals its baseline
    table["active"]["auroc"] = 0.70
    assert deterioration_promotion(table)["decision"] == "rejected"
    assert deterioration_promotion({"candidate": {"auroc": None}, "logistic": {"auroc": None}})["decision"] == "rejected"


def test_training_from_lines_is_judged_against_the_active_version(tmp_path, deterioration_model):
    series, _ = parse_deterioration(_lines(simulate_cohort(120, 17)))
    info, decision = train_deterioration_from_series(series, tmp_path, active=deterioration_model)
    table = info.metrics["backtest"][0]
    assert table["candidate"]["auroc"] > 0.6 and table["active"]["auroc"] > 0.6
    assert decision == {**deterioration_promotion(table), "compared_with": deterioration_model.version}
    with pytest.raises(ValueError, match="patients"):
        train_deterioration_from_series(series[:5], tmp_path)
