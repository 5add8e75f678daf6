"""A patient's history merged from the requests a deployment received (``mindq model train --from-db``)."""
from __future__ import annotations

from forecasting.backtest import parse_series
from forecasting.history import patient_histories


def obs(*pairs):
    return [{"timestamp": ts, "value": v} for ts, v in pairs]


def test_one_series_per_patient_and_instrument_with_every_visit_once():
    inputs = [
        ("p1", {"instrument": "PHQ-9", "observations": obs(("2026-01-05", 18), ("2026-01-12", 17))}),
        # the next request repeats the first visits (one written as a datetime) and corrects one
        ("p1", {"instrument": "PHQ-9", "observations": obs(("2026-01-05T00:00:00Z", 18), ("2026-01-12", 16),
                                                           ("2026-01-19", 15)), "horizon": 4}),
        ("p1", {"instrument": "GAD-7", "observations": obs(("2026-01-05", 9))}),
        ("p2", {"instrument": "PHQ-9", "observations": obs(("2026-01-07", 5))}),
    ]
    lines, unreadable = patient_histories(inputs)
    assert unreadable == 0
    by_key = {(line["patient"], line["instrument"]): line for line in lines}
    assert set(by_key) == {("p1", "PHQ-9"), ("p1", "GAD-7"), ("p2", "PHQ-9")}
    assert [o["value"] for o in by_key["p1", "PHQ-9"]["observations"]] == [18, 16, 15]  # the later value wins
    assert "biometrics" not in by_key["p2", "PHQ-9"]


def test_wearable_days_are_merged_and_unreadable_inputs_counted():
    day = {"date": "2026-01-05", "sleep_hours": 6.5}
    inputs = [
        ("p1", {"instrument": "PHQ-9", "observations": obs(("2026-01-05", 12)), "biometrics": [day]}),
        ("p1", {"instrument": "PHQ-9", "observations": obs(("2026-01-12", 13)),
                "biometrics": [{**day, "sleep_hours": 7.0}, {"date": "2026-01-06", "steps": 4000}]}),
        ("p3", {"observations": obs(("2026-01-05", 1))}),  # no instrument
        ("p4", {"instrument": "PHQ-9", "observations": [{"timestamp": "not a date", "value": 3}]}),
    ]
    lines, unreadable = patient_histories(inputs)
    assert unreadable == 2 and len(lines) == 1
    days = lines[0]["biometrics"]
    assert [d["date"] for d in days] == ["2026-01-05", "2026-01-06"] and days[0]["sleep_hours"] == 7.0


def test_merged_lines_read_as_training_series():
    visits = [(f"2026-{1 + w // 4:02d}-{1 + 7 * (w % 4):02d}", 20 - w) for w in range(8)]
    lines, _ = patient_histories([("p1", {"instrument": "PHQ-9", "observations": obs(*visits[:5])}),
                                  ("p1", {"instrument": "PHQ-9", "observations": obs(*visits)})])
    series, skipped = parse_series(lines)
    assert not skipped and len(series) == 1
    assert series[0].patient == "p1" and list(series[0].values) == [20 - w for w in range(8)]
