import math

import pytest
from pydantic import ValidationError

from forecasting.schemas import (
    H_MAX,
    BiometricCorrelationRequest,
    DeteriorationRequest,
    ForecastRequest,
    validation_errors,
)

GOOD = [{"timestamp": f"2024-01-{d:02d}", "value": v} for d, v in [(1, 14), (8, 12), (15, 13), (22, 11), (29, 10)]]


def kinds(model, **payload):
    with pytest.raises(ValidationError) as exc:
        model.model_validate(payload)
    errors = validation_errors(exc.value)
    for e in errors:  # every message is finished prose, not a template
        assert "{" not in e["message"] and e["message"].strip()
    return {e["kind"] for e in errors}, errors


def test_good_payload_parses_dates_and_datetimes():
    obs = GOOD[:-1] + [{"timestamp": "2024-01-29T09:30:00+02:00", "value": 10}]
    req = ForecastRequest.model_validate({"instrument": "PHQ-9", "observations": obs, "horizon": 3})
    assert req.observations[-1].timestamp.hour == 7  # converted to UTC
    assert req.horizon == 3


@pytest.mark.parametrize("obs, kind", [
    (GOOD[::-1], "unsorted_timestamps"),
    (GOOD + [GOOD[-1]], "duplicate_timestamp"),
    (GOOD[:2], "series_too_short"),
    (GOOD + [{"timestamp": "2024-02-05", "value": math.nan}], "non_finite_value"),
    (GOOD + [{"timestamp": "2024-02-05", "value": math.inf}], "non_finite_value"),
    (GOOD + [{"timestamp": "2024-02-05", "value": 28}], "value_out_of_range"),
    (GOOD + [{"timestamp": "2024-02-05", "value": -1}], "value_out_of_range"),
    (GOOD + [{"timestamp": "last tuesday", "value": 3}], "invalid_timestamp"),
    (GOOD + [{"timestamp": "2024-02-05", "value": "12"}], "float_type"),
    (GOOD + [{"timestamp": "2024-02-05", "value": True}], "float_type"),
])
def test_bad_series_kinds(obs, kind):
    found, errors = kinds(ForecastRequest, instrument="PHQ-9", observations=obs)
    assert kind in found, errors


def test_out_of_range_names_the_observation():
    _, errors = kinds(ForecastRequest, instrument="mood", observations=GOOD)
    assert errors[0]["field"] == "observations.0.value"
    assert "outside 1..10" in errors[0]["message"]


def test_unknown_instrument_lists_known_ones():
    found, errors = kinds(ForecastRequest, instrument="PHQ-10", observations=GOOD)
    assert found == {"unknown_instrument"}
    assert "PHQ-9" in errors[0]["message"]


@pytest.mark.parametrize("horizon", [0, H_MAX + 1, -3, 2.5, "4", True])
def test_horizon_out_of_range(horizon):
    found, _ = kinds(ForecastRequest, instrument="PHQ-9", observations=GOOD, horizon=horizon)
    assert found == {"horizon_out_of_range"}


def test_biometric_checks():
    days = [{"date": f"2024-01-{d:02d}", "sleep_hours": 7.0, "hrv": None} for d in range(1, 6)]
    DeteriorationRequest.model_validate({"instrument": "PHQ-9", "observations": GOOD, "biometrics": days})
    found, _ = kinds(DeteriorationRequest, instrument="PHQ-9", observations=GOOD, biometrics=days + [days[-1]])
    assert found == {"duplicate_timestamp"}
    found, _ = kinds(DeteriorationRequest, instrument="PHQ-9", observations=GOOD,
                     biometrics=[{"date": "2024-01-01", "sleep_hours": 30}])
    assert found == {"value_out_of_range"}
    found, _ = kinds(DeteriorationRequest, instrument="PHQ-9", observations=GOOD,
                     biometrics=[{"date": "2024-01-01", "hrv": math.nan}])
    assert found == {"non_finite_value"}
    found, _ = kinds(DeteriorationRequest, instrument="PHQ-9", observations=GOOD,
                     biometrics=[{"date": "2024-01-01", "blood_sugar": 5}])
    assert found == {"extra_forbidden"}


def test_correlation_request_limits():
    days = [{"date": f"2024-01-{d:02d}", "sleep_hours": 7.0} for d in range(1, 6)]
    BiometricCorrelationRequest.model_validate({"instrument": "PHQ-9", "symptoms": GOOD, "biometrics": days})
    found, _ = kinds(BiometricCorrelationRequest, instrument="PHQ-9", symptoms=GOOD, biometrics=days[:2])
    assert "series_too_short" in found
    found, _ = kinds(BiometricCorrelationRequest, instrument="PHQ-9", symptoms=GOOD, biometrics=days, max_lag=30)
    assert "less_than_equal" in found
