"""Journals through the API and the store on the session's real PostgreSQL: idempotent entries,
409 on a changed entry, tenant isolation, scopes, claims that never hand a pair out twice,
change detection, and the nightly schedule's firings."""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import uuid
import zoneinfo

import pytest

from jobstore import runtime, tenants
from tasks import reanalysis
from tasks.journal_flags import detect

VERSIONS = {"risk": {"versions": {"model_id": "m", "prompt_version": "risk@1"}, "key": "k-risk"},
            "sentiment": {"versions": {"model_id": "m", "prompt_version": "sentiment@1"}, "key": "k-sent"}}


@pytest.fixture(scope="module")
def jkeys(keys) -> dict[str, str]:
    engine = runtime.db()
    scopes = ("journals:write", "journals:read")
    return {"a": tenants.add_key(engine, tenants.ensure_tenant(engine, "clinic-a"), scopes=scopes),
            "b": tenants.add_key(engine, tenants.ensure_tenant(engine, "clinic-b"), scopes=scopes),
            "jobs-only": keys["clinic-a"]}


def _entries(n: int, start: int = 0, prefix: str = "e") -> list[dict]:
    base = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    return [{"entry_id": f"{prefix}{i}", "written_at": (base + dt.timedelta(days=i)).isoformat(),
             "text": f"Day {i}: slept badly, felt low."} for i in range(start, start + n)]


def test_entries_are_idempotent_and_a_changed_one_is_a_conflict(api, jkeys):
    patient = f"PT-{uuid.uuid4().hex[:8]}"
    status, body, _ = api("POST", f"/v1/patients/{patient}/journal", {"entries": _entries(3)}, key=jkeys["a"])
    assert status == 201, body
    assert [e["created"] for e in body["entries"]] == [True, True, True]
    ids = [e["id"] for e in body["entries"]]
    status, again, _ = api("POST", f"/v1/patients/{patient}/journal", {"entries": _entries(3)}, key=jkeys["a"])
    assert status == 200 and [e["id"] for e in again["entries"]] == ids
    assert not any(e["created"] for e in again["entries"])
    # the same entry_id with another text: 409, and the new entry sent with it is not written either
    changed = [{**_entries(1)[0], "text": "another text"}, *_entries(1, start=3)]
    status, err, _ = api("POST", f"/v1/patients/{patient}/journal", {"entries": changed}, key=jkeys["a"])
    assert status == 409 and err["error"]["code"] == "JOURNAL_ENTRY_CONFLICT"
    assert err["error"]["details"] == {"conflicts": 1}
    assert patient not in json.dumps(err) and "e0" not in json.dumps(err)
    moved = [{**_entries(1)[0], "written_at": "2026-11-01T09:00:00+01:00"}]  # the same instant: a replay
    assert api("POST", f"/v1/patients/{patient}/journal", {"entries": moved}, key=jkeys["a"])[0] == 200
    status, journal, _ = api("GET", f"/v1/patients/{patient}/journal", key=jkeys["a"])
    assert status == 200
    assert [e["entry_id"] for e in journal["entries"]] == ["e0", "e1", "e2"]
    assert all("text" not in e and e["analyses"] == [] for e in journal["entries"])
    status, journal, _ = api("GET", f"/v1/patients/{patient}/journal?include=text", key=jkeys["a"])
    assert journal["entries"][0]["text"] == "Day 0: slept badly, felt low."


def test_another_tenants_patient_is_not_found_and_scopes_are_required(api, jkeys):
    patient = f"PT-{uuid.uuid4().hex[:8]}"
    assert api("POST", f"/v1/patients/{patient}/journal", {"entries": _entries(1)}, key=jkeys["a"])[0] == 201
    for path in (f"/v1/patients/{patient}/journal", f"/v1/patients/{patient}/flags"):
        status, body, _ = api("GET", path, key=jkeys["b"])
        assert status == 404 and body["error"]["code"] == "NOT_FOUND" and patient not in json.dumps(body)
    status, body, _ = api("GET", f"/v1/patients/{patient}/journal", key=jkeys["jobs-only"])
    assert status == 403 and body["error"]["code"] == "FORBIDDEN"
    status, body, _ = api("POST", "/v1/reanalysis-runs", {}, key=jkeys["jobs-only"])
    assert status == 403
    status, body, _ = api("GET", f"/v1/reanalysis-runs/{uuid.uuid4()}", key=jkeys["a"])
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    status, body, _ = api("GET", "/v1/reanalysis-runs/not-a-uuid", key=jkeys["a"])
    assert status == 404


@pytest.mark.parametrize("entry, code", [
    ({"entry_id": "x", "written_at": "2026-11-01T08:00:00", "text": "no time zone"}, "VALIDATION_ERROR"),
    ({"entry_id": "x", "written_at": "2026-11-01T08:00:00Z", "text": "   "}, "MISSING_TEXT"),
    ({"entry_id": "x", "written_at": "2026-11-01T08:00:00Z"}, "VALIDATION_ERROR"),
    ({"entry_id": "x", "written_at": "0001-01-01T00:00:00+14:00", "text": "t"}, "VALIDATION_ERROR"),
    ({"entry_id": "x", "written_at": "2026-11-01T08:00:00Z", "text": "t", "extra": 1}, "VALIDATION_ERROR"),
])
def test_bad_entries_are_422_without_echo(api, jkeys, entry, code):
    status, body, _ = api("POST", "/v1/patients/PT-SECRET-REF/journal", {"entries": [entry]}, key=jkeys["a"])
    assert status == 422 and body["error"]["code"] == code
    assert "PT-SECRET-REF" not in json.dumps(body) and "no time zone" not in json.dumps(body)


def test_an_entry_twice_in_one_request_is_one_entry_or_a_conflict(api, jkeys):
    patient = f"PT-{uuid.uuid4().hex[:8]}"
    twice = _entries(2) + _entries(1)
    status, body, _ = api("POST", f"/v1/patients/{patient}/journal", {"entries": twice}, key=jkeys["a"])
    assert status == 201 and [e["entry_id"] for e in body["entries"]] == ["e0", "e1"]
    other = [*_entries(1, start=5), {**_entries(1, start=5)[0], "text": "changed"}]
    status, body, _ = api("POST", f"/v1/patients/{patient}/journal", {"entries": other}, key=jkeys["a"])
    assert status == 409 and body["error"]["code"] == "JOURNAL_ENTRY_CONFLICT"
    assert len(api("GET", f"/v1/patients/{patient}/journal", key=jkeys["a"])[1]["entries"]) == 2


def test_bad_run_requests_are_422(api, jkeys):
    status, body, _ = api("POST", "/v1/reanalysis-runs", {"types": ["secret-type-name"]}, key=jkeys["a"])
    assert status == 422 and body["error"]["code"] == "UNKNOWN_ANALYSIS_TYPE"
    assert "secret-type-name" not in json.dumps(body) and "risk" in body["error"]["details"]["allowed"]
    status, body, _ = api("POST", "/v1/reanalysis-runs", {"types": ["progress"]}, key=jkeys["a"])
    assert status == 422  # two-text types cannot read an entry alone
    status, body, _ = api("POST", "/v1/reanalysis-runs", {"callback_url": "http://169.254.169.254/x"}, key=jkeys["a"])
    assert status == 422 and body["error"]["code"] == "INVALID_CALLBACK_URL"
    for bad in ({"since": "yesterday"}, {"since": 0}, {"patient_refs": [" "]}, {"types": []}):
        status, body, _ = api("POST", "/v1/reanalysis-runs", bad, key=jkeys["a"])
        assert status == 422 and body["error"]["code"] == "VALIDATION_ERROR", bad
    for limit in ("0", "501", "x"):
        assert api("GET", f"/v1/reanalysis-runs?limit={limit}", key=jkeys["a"])[0] == 422
    for ref in ("%1E%20", "%20%09"):  # blank is ASCII spaces only, as the document's pattern says
        expected = 404 if ref == "%1E%20" else 422
        assert api("GET", f"/v1/patients/{ref}/journal", key=jkeys["a"])[0] == expected
    status, run, _ = api("POST", "/v1/reanalysis-runs", {"types": ["risk"], "patient_refs": ["PT-nobody"]},
                         key=jkeys["a"])
    assert status == 202
    for header in ("", "soon"):  # an empty Last-Event-ID is not an id either
        status, body, _ = api("GET", f"/v1/reanalysis-runs/{run['id']}/events", key=jkeys["a"],
                              headers={"Last-Event-ID": header})
        assert status == 400 and body["error"]["code"] == "INVALID_LAST_EVENT_ID"


def _stored_patient(api, key: str, n: int) -> str:
    patient = f"PT-{uuid.uuid4().hex[:8]}"
    assert api("POST", f"/v1/patients/{patient}/journal", {"entries": _entries(n)}, key=key)[0] == 201
    return patient


def test_concurrent_claims_hand_each_pair_out_once_and_a_lapsed_lease_is_retaken(api, jkeys):
    patient = _stored_patient(api, jkeys["a"], 30)
    store = runtime.journals()
    tenant = tenants.ensure_tenant(runtime.db(), "clinic-a")
    runs = [store.create_run(tenant, trigger="api", versions=VERSIONS, patient_refs=[patient], actor="test")
            for _ in range(2)]
    runs = [store.start_run(r) for r in runs]
    assert [r["selected"] for r in runs] == [60, 60]

    def claim(i: int) -> list:
        return store.claim(runs[i % 2], f"owner-{i}", 7, lease_s=30)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(claim, range(16)))
    # a claim may come back short (entries another claim is picking are skipped): what is left
    # is claimable by the next one
    batches.append(store.claim(runs[0], "late", 100, lease_s=30))
    claimed = [(c["entry_id"], c["type"]) for batch in batches for c in batch]
    assert len(claimed) == len(set(claimed)) == 60  # every pair once, whichever run asked
    assert all(c["text"].startswith("Day ") for batch in batches for c in batch)
    assert store.claim(runs[0], "later", 10, lease_s=30) == []
    status = store.status(runs[0])
    assert status["claimable"] == 0 and status["in_flight"] == 60
    # an owner that went silent: its lease lapses and another worker retakes its pairs, attempt 2
    held = batches[0]
    store.renew([c["id"] for c in held], "owner-0", -1)
    retaken = store.claim(runs[1], "rescuer", 50, lease_s=30)
    assert {c["id"] for c in retaken} == {c["id"] for c in held} and {c["attempt"] for c in retaken} == {2}
    # the silent owner's late result is refused; the rescuer's is the one stored
    item = held[0]
    assert not store.succeed(item["id"], "owner-0", {"label": "low"}, VERSIONS[item["type"]]["versions"])
    assert store.succeed(item["id"], "rescuer", {"label": "low"}, VERSIONS[item["type"]]["versions"])
    assert store.status(runs[0])["done"] == 1


def _row(patient, kind, entry, label, run, reanalysed=False):
    return {"patient_ref_hash": patient, "type": kind, "entry_id": entry, "analysis_id": f"a-{entry}-{kind}",
            "label": label, "run_id": run, "reanalysed": reanalysed}


def test_change_detection_table():
    series = [_row("p", "risk", 1, "low", "old"), _row("p", "risk", 2, "low", "new"),
              _row("p", "risk", 3, "medium", "new"), _row("p", "risk", 4, None, "new"),
              _row("p", "risk", 5, "high", "new"), _row("p", "risk", 6, "medium", "new"),
              _row("p", "sentiment", 1, "positive", "new"), _row("p", "sentiment", 2, "neutral", "new", True),
              _row("p", "sentiment", 3, "neutral", "new"), _row("q", "risk", 1, "high", "new")]
    got = {(f["type"], f["entry"], f["kind"]): (f["from"], f["to"], f["attention"]) for f in detect(series, "new", 3)}
    assert got == {
        ("risk", 3, "risk_increase"): ("low", "medium", True),
        ("risk", 3, "negative_trend"): ("low", "medium", True),  # low, low, medium
        ("risk", 5, "risk_increase"): ("medium", "high", True),  # the unparsed entry 4 is skipped
        ("risk", 5, "negative_trend"): ("low", "high", True),  # low, medium, high
        ("risk", 6, "label_change"): ("high", "medium", False),  # better: a change, not a risk
        # sentiment 2 is a re-analysis (new versions, same entry): no flag of its own
        ("sentiment", 3, "negative_trend"): ("positive", "neutral", False),
    }
    assert detect(series, "old", 3) == []  # the old run's only analysis has no history before it


def test_nightly_firings_follow_the_tenant_time_zone():
    cron = reanalysis.nightly_schedule("30 2 * * *")
    oslo = zoneinfo.ZoneInfo("Europe/Oslo")  # UTC+1 in December
    now = dt.datetime(2026, 12, 2, 1, 40, tzinfo=dt.UTC)  # 02:40 in Oslo
    assert [f.strftime("%H:%M") for f in reanalysis.firings(cron, oslo, now, 15)] == ["02:30"]
    assert reanalysis.firings(cron, zoneinfo.ZoneInfo("UTC"), now, 15) == []
    for bad in ("30 2 * *", "99 2 * * *"):
        with pytest.raises(reanalysis.InvalidCron):
            reanalysis.nightly_schedule(bad)
    weekdays = reanalysis.nightly_schedule("0 3 * * 1-5")  # Monday to Friday
    saturday = dt.datetime(2026, 12, 5, 3, 0, tzinfo=dt.UTC)
    assert reanalysis.firings(weekdays, zoneinfo.ZoneInfo("UTC"), saturday, 0) == []
    assert len(reanalysis.firings(weekdays, zoneinfo.ZoneInfo("UTC"), saturday - dt.timedelta(days=1), 0)) == 1
