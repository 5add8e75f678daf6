"""Forecasting job types through the API and the cpu worker, with the registered default models."""
from __future__ import annotations

import datetime as dt
import math
import time

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


def test_model_endpoints_list_versions_and_backtests(api, keys, client):
    import datetime as _dt

    from jobstore import runtime
    from jobstore.model_registry import register

    table = [{"horizon": 1, "n_windows": 10, "mae": 1.2, "mae_last_value": 1.1, "coverage": 0.9, "mean_width": 6.0}]
    register(runtime.db(), name="test-registry-model", version="v-rejected", metrics={"backtest": table}, path="/nope",
             sha256="0" * 64, created_at=_dt.datetime.now(_dt.UTC), decision="rejected", backtest=table)
    status, body, _ = api("GET", "/v1/models", key=keys["read-only"])
    assert status == 200, body
    models = {m["name"]: m for m in body["models"]}
    assert models["test-registry-model"]["active_version"] is None
    assert models["test-registry-model"]["versions"][0]["state"] == "rejected"
    status, body, _ = api("GET", "/v1/models/test-registry-model/performance", key=keys["read-only"])
    assert status == 200 and body["versions"][0]["backtest"] == table, body
    status, body, _ = api("GET", "/v1/models/no-such-model/performance")
    assert status == 404 and body["error"]["code"] == "NOT_FOUND", body
    assert "no-such-model" not in str(body)  # the name the client sent is not echoed
    resp = client.get("/v1/models")
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "UNAUTHENTICATED"


def test_train_from_file_is_judged_by_its_backtest(api, proc_env, cpu_worker, tmp_path):
    """`mindq model train forecast --from FILE`: registered with its backtest; active only if it won; and
    the running cpu worker serves a newly active version within a minute, without a restart."""
    import json
    import subprocess
    import sys

    from forecasting.families import generate
    from jobstore import runtime
    from jobstore.model_registry import active, register, versions

    before = active(runtime.db(), "symptom-forecast")
    source = tmp_path / "series.jsonl"
    lines = [json.dumps(s) for s in generate("trend_relapse", 60, 11)] + ["{broken"]
    source.write_text("\n".join(lines) + "\n")
    done = subprocess.run([sys.executable, "-m", "mindq.cli", "model", "train", "forecast", "--from", str(source)],
                          env=proc_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["skipped_lines"] == 1 and len(out["backtest"]) == 8
    try:
        row = next(r for r in versions(runtime.db(), "symptom-forecast") if r["version"] == out["version"])
        assert row["state"] == out["state"] and row["backtest"] == out["backtest"]
        won = all(r["mae"] < r["mae_last_value"] and r["mae"] < r["mae_active"] for r in out["backtest"])
        assert (out["state"] == "active") == won, out
        # whatever the verdict, make this version the active one and watch the worker switch to it
        register(runtime.db(), name=row["name"], version=row["version"], metrics=row["metrics"],
                 path=row["artefact_path"], sha256=row["artefact_hash"], created_at=row["created_at"],
                 activate=True, decision=row["decision"], backtest=row["backtest"])
        deadline = time.monotonic() + 60
        served = None
        while served != out["version"]:
            assert time.monotonic() < deadline, f"worker still serves {served}, not {out['version']}"
            status, job, _ = api("POST", "/v1/jobs", {"type": "forecast", "payload": weekly([14, 13, 13, 12, 11])})
            assert status == 202, job
            served = wait_job(api, job["id"], timeout=60)["result"]["model_version"]
            time.sleep(1)
    finally:
        if before is not None:  # give the other tests back the model they expect
            register(runtime.db(), name=before["name"], version=before["version"], metrics=before["metrics"],
                     path=before["artefact_path"], sha256=before["artefact_hash"], created_at=before["created_at"],
                     activate=True, decision=before["decision"], backtest=before["backtest"])


def test_workers_pick_up_a_newly_active_version(monkeypatch):
    from tasks import forecast_models as fm

    class Loaded:
        def __init__(self, version):
            self.version = version

    active = {"version": ("v1", "/a/v1")}
    loads = []
    monkeypatch.setattr("jobstore.runtime.db", lambda: None)
    monkeypatch.setattr("jobstore.model_registry.active_version", lambda engine, name: active["version"])
    monkeypatch.setattr("forecasting.training.load", lambda kind, path: loads.append(path) or Loaded(path.name))
    monkeypatch.setattr(fm, "_predictors", {"forecast": Loaded("v1")})
    monkeypatch.setattr(fm, "_checked", {"forecast": 0.0})
    clock = [1000.0]
    monkeypatch.setattr(fm.time, "monotonic", lambda: clock[0])
    assert fm.predictor("forecast").version == "v1" and loads == []  # checked, unchanged: nothing loaded
    active["version"] = ("v2", "/a/v2")
    clock[0] += fm.REFRESH_S / 2
    assert fm.predictor("forecast").version == "v1"  # not asked again yet
    clock[0] += fm.REFRESH_S / 2
    assert fm.predictor("forecast").version == "v2" and len(loads) == 1
    assert fm.REFRESH_S <= 60


def test_a_newly_active_version_that_fails_to_load_keeps_the_old_one(monkeypatch):
    from tasks import forecast_models as fm

    class Loaded:
        version = "v1"

    def broken(kind, path):
        raise OSError("gone")

    monkeypatch.setattr("jobstore.runtime.db", lambda: None)
    monkeypatch.setattr("jobstore.model_registry.active_version", lambda engine, name: ("v2", "/a/v2"))
    monkeypatch.setattr("forecasting.training.load", broken)
    monkeypatch.setattr(fm, "_predictors", {"forecast": Loaded()})
    monkeypatch.setattr(fm, "_checked", {})
    assert fm.predictor("forecast").version == "v1"


def test_train_deterioration_from_file(proc_env, tmp_path):
    import json
    import subprocess
    import sys

    from forecasting.simulator import simulate_cohort
    from jobstore import runtime
    from jobstore.model_registry import active, register, versions

    before = active(runtime.db(), "deterioration-risk")
    source = tmp_path / "det.jsonl"
    source.write_text("".join(json.dumps({"patient": str(p.pid), "instrument": "PHQ-9",
                                          "observations": p.observations("PHQ-9"),
                                          "biometrics": p.biometric_records()}) + "\n"
                              for p in simulate_cohort(80, 23)))
    done = subprocess.run([sys.executable, "-m", "mindq.cli", "model", "train", "deterioration", "--from",
                           str(source)], env=proc_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    try:
        row = next(r for r in versions(runtime.db(), "deterioration-risk") if r["version"] == out["version"])
        assert row["state"] == out["state"] and row["backtest"] == out["backtest"]
        assert out["backtest"][0]["candidate"]["auroc"] is not None
    finally:
        if before is not None:
            register(runtime.db(), name=before["name"], version=before["version"], metrics=before["metrics"],
                     path=before["artefact_path"], sha256=before["artefact_hash"], created_at=before["created_at"],
                     activate=True, decision=before["decision"], backtest=before["backtest"])


def test_train_from_the_database_learns_each_patients_history_once(api, proc_env, cpu_worker):
    """`mindq model train forecast --from-db --tenant T`: the series T's forecast jobs brought in,
    one per patient however many requests repeated it, judged and registered as --from is."""
    import json
    import subprocess
    import sys

    from forecasting.families import generate
    from jobstore import runtime, tenants
    from jobstore.model_registry import active, register, versions

    key = tenants.add_key(runtime.db(), tenants.ensure_tenant(runtime.db(), "clinic-history"))
    ids = []
    for i, series in enumerate(generate("mean_reverting", 30, 5)):
        visits = series["observations"]
        for upto in (len(visits) // 2, len(visits)):  # each visit sends the history to date
            status, job, _ = api("POST", "/v1/jobs", {"type": "forecast", "patient_ref": f"MRN-{i:04d}", "payload": {
                "instrument": "PHQ-9", "observations": visits[:upto]}}, key=key)
            assert status == 202, job
            ids.append(job["id"])
    status, job, _ = api("POST", "/v1/jobs", {"type": "forecast", "payload": weekly([9, 8, 8, 7, 6])}, key=key)
    ids.append(job["id"])  # sent without a patient ref: a patient of its own
    for job_id in ids:
        assert wait_job(lambda *a, **kw: api(*a, key=key, **kw), job_id, timeout=120)["state"] == "succeeded"

    before = active(runtime.db(), "symptom-forecast")
    cmd = [sys.executable, "-m", "mindq.cli", "model", "train", "forecast", "--from-db"]
    try:
        done = subprocess.run([*cmd, "--tenant", "clinic-history"], env=proc_env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        out = json.loads(done.stdout.strip().splitlines()[-1])
        assert out["patients"] == 31 and out["unreadable_inputs"] == 0 and out["skipped_lines"] == 0, out
        assert len(out["backtest"]) == 8
        row = next(r for r in versions(runtime.db(), "symptom-forecast") if r["version"] == out["version"])
        assert row["state"] == out["state"] and row["backtest"] == out["backtest"]
        assert row["metrics"]["n_series"] == 31  # one series a patient, not one a request
    finally:
        if before is not None:  # give the other tests back the model they expect
            register(runtime.db(), name=before["name"], version=before["version"], metrics=before["metrics"],
                     path=before["artefact_path"], sha256=before["artefact_hash"], created_at=before["created_at"],
                     activate=True, decision=before["decision"], backtest=before["backtest"])
    unknown = subprocess.run([*cmd, "--tenant", "no-such-clinic"], env=proc_env, capture_output=True, text=True,
                             timeout=120)
    assert unknown.returncode != 0 and "no tenant named 'no-such-clinic'" in unknown.stderr
