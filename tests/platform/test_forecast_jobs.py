"""Forecasting job types through the API and the cpu worker, with the registered default models."""
from __future__ import annotations

import datetime as dt
import math

import pytest

from tests.platform.conftest import wait_job

START = dt.date(2026, 1, 5)


def weekly(values, instrument="PHQ-9"):
    return {"instrument": instrument,
            "observations": [{"timestamp": (START + dt.timedelta(weeks=i)).isoformat(), "value": v}
                             for i, v in enumerate(values)]}


def test_forecast_job(api, cpu_worker):
    status, job, _ = api("POST", "/v1/jobs", {"type": "forecast", "payload": {**weekly([18, 17, 15, 14, 14, 12, 11, 10]),
                                                                             "horizon": 4}})
    assert status == 202, job
    done = wait_job(api, job["id"], timeout=120)
    assert done["state"] == "succeeded", done
    result = done["result"]
    assert result["model_version"]
    steps = result["forecasts"]
    assert [s["week"] for s in steps] == [1, 2, 3, 4]
    for step in steps:
        assert 0 <= step["lower"] <= step["point"] <= step["upper"] <= 27, step


def test_deterioration_and_correlation_jobs(api, cpu_worker):
    status, job, _ = api("POST", "/v1/jobs", {"type": "deterioration", "payload": weekly([6, 7, 9, 10, 12, 13])})
    assert status == 202, job
    done = wait_job(api, job["id"], timeout=120)
    assert done["state"] == "succeeded", done
    prob = done["result"]["probability"]
    assert 0.0 <= prob <= 1.0 and done["result"]["model_version"]

    days = [START + dt.timedelta(days=i) for i in range(60)]
    sleep = [7 + math.sin(i / 3) for i in range(60)]
    payload = {"instrument": "mood",
               "symptoms": [{"timestamp": d.isoformat(), "value": round(5 + 2 * math.sin((i - 2) / 3), 2)}
                            for i, d in enumerate(days)],
               "biometrics": [{"date": d.isoformat(), "sleep_hours": round(s, 2)} for d, s in zip(days, sleep, strict=True)]}
    status, job, _ = api("POST", "/v1/jobs", {"type": "biometric_correlation", "payload": payload})
    assert status == 202, job
    done = wait_job(api, job["id"], timeout=120)
    assert done["state"] == "succeeded", done


@pytest.mark.parametrize("payload,fragment", [
    (weekly([10, 11]), "too_short"),
    ({"instrument": "PHQ-9", "observations": [{"timestamp": "2026-01-12", "value": 5},
                                              {"timestamp": "2026-01-05", "value": 6},
                                              {"timestamp": "2026-01-19", "value": 7},
                                              {"timestamp": "2026-01-26", "value": 7}]}, "unsorted"),
    ({"instrument": "PHQ-9", "observations": [{"timestamp": "2026-01-05", "value": 5}] * 4}, "duplicate"),
    (weekly([10, 11, 12, 40]), "range"),
    (weekly([10, 11, 12, 13], instrument="XYZ-1"), "instrument"),
    ({**weekly([10, 11, 12, 13]), "horizon": 99}, "horizon"),
])
def test_bad_series_are_422_with_a_clear_reason(api, payload, fragment):
    status, body, _ = api("POST", "/v1/jobs", {"type": "forecast", "payload": payload})
    assert status == 422 and body["error"]["code"] == "INVALID_SERIES", body
    text = str(body["error"]["details"]).lower()
    assert fragment in text, text


def test_nan_is_rejected(client, keys):
    raw = '{"type": "forecast", "payload": {"instrument": "PHQ-9", "observations": [' + ",".join(
        f'{{"timestamp": "2026-01-{5 + 7 * i:02d}", "value": {v}}}' for i, v in enumerate(["1", "NaN", "3", "4"])) + "]}}"
    resp = client.post("/v1/jobs", data=raw, headers={"Authorization": f"Bearer {keys['clinic-a']}",
                                                      "Content-Type": "application/json"})
    assert resp.status_code == 422, resp.get_data(as_text=True)
