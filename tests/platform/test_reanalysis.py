"""Re-analysis runs on the real llm worker (threads pool + engine, the shipped demo model): every
pair of a few hundred entries analysed exactly once per version, with two runs at once and across
a killed worker; a version change re-runs only its type; a deterioration the demo model itself
reads in a patient's entries raises flags, and a planted one the signed callback; PHI canaries in
entries never reach PostgreSQL or Redis in clear."""
from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import http.server
import json
import threading
import uuid
from pathlib import Path

import psutil
import pytest

from core import config
from jobstore import runtime, tenants
from tasks import reanalysis
from tasks.journal_flags import detect
from tests.platform.conftest import LLM_WORKER, read_sse, wait_until, worker_alive
from tests.platform.test_phi_canary import CANARIES, _leaks, _postgres_dump, _redis_dump

# a few minutes on an idle two-core machine; a busy one (every helper's tests at once) needs more
pytestmark = pytest.mark.timeout(900)
FRESH_POSTS = Path(__file__).resolve().parents[1] / "data" / "fresh_posts.jsonl"
BUDGET = 4  # tokens per answer: enough for the demo model's "yes." / "no.", and a run's cost is its prefill
MOODS = ["Slept a little better, walked the dog.", "Tired all day, skipped lunch.",
         "Could not get out of bed until noon.", "Felt calm after talking to my sister."]


@pytest.fixture(scope="module", autouse=True)
def budget(platform_env):
    """Runs created here carry a short generation budget (part of their versions) and two lanes,
    the worker's batch of 8 / chunk of 8 doubled."""
    before = config.settings()
    config.use(dataclasses.replace(before, reanalysis_max_new_tokens=BUDGET, reanalysis_lanes=2))
    yield
    config.use(before)


@pytest.fixture(scope="module")
def key(platform_env) -> str:
    engine = runtime.db()
    return tenants.add_key(engine, tenants.ensure_tenant(engine, "clinic-a"),
                           scopes=("journals:write", "journals:read"))


def _journal(api, key: str, n: int, texts=None) -> str:
    tag = uuid.uuid4().hex[:10]
    patient = f"PT-{tag}"
    base = dt.datetime(2026, 10, 1, 21, 0, tzinfo=dt.UTC)
    # texts of their own: an identical prompt would be answered from the result cache, not the engine
    entries = [{"entry_id": f"n{i}", "written_at": (base + dt.timedelta(days=i)).isoformat(),
                "text": texts[i] if texts else f"Night {i} ({tag[:4]}). {MOODS[i % len(MOODS)]}"} for i in range(n)]
    status, body, _ = api("POST", f"/v1/patients/{patient}/journal", {"entries": entries}, key=key)
    assert status == 201, body
    return patient


def _run(api, key: str, body: dict) -> dict:
    status, run, headers = api("POST", "/v1/reanalysis-runs", body, key=key)
    assert status == 202, run
    assert headers["Location"] == f"/v1/reanalysis-runs/{run['id']}"
    return run


def _wait_run(api, key: str, run_id: str, timeout: float = 240) -> dict:
    def done():
        status, run, _ = api("GET", f"/v1/reanalysis-runs/{run_id}", key=key)
        assert status == 200, run
        return run if run["state"] not in ("queued", "running") else None

    return wait_until(done, timeout, 0.5, what=f"run {run_id}")


def _analyses(patients: list[str], type_name: str | None = None) -> list[dict]:
    hashes = [runtime.journals().patient_hash(p) for p in patients]
    return runtime.sql().all("""
        SELECT a.* FROM journal_analyses a JOIN journal_entries e ON e.id = a.journal_entry_id
         WHERE e.patient_ref_hash = ANY(%(h)s) AND (%(t)s::text IS NULL OR a.type = %(t)s)""",
                             {"h": hashes, "t": type_name})


def test_a_run_analyses_each_pair_once_streams_progress_and_leaks_no_phi(api, key, llm_worker, web_server):
    planted = (f"Mr. {CANARIES['name']} (MRN: {CANARIES['mrn']}, SSN {CANARIES['ssn']}) wrote from "
               f"{CANARIES['email']}; call {CANARIES['phone']}. I feel hopeless tonight.")
    texts = [planted if i % 10 == 3 else f"Night {i} (canary). {MOODS[i % 4]}" for i in range(100)]
    patients = [_journal(api, key, 100, texts), _journal(api, key, 100), _journal(api, key, 100)]  # 300 entries
    run = _run(api, key, {"types": ["risk", "sentiment"], "patient_refs": patients})
    assert run["counts"]["selected"] == 600 and run["state"] == "running"
    assert run["versions"]["risk"]["prompt_version"] == "risk@1"
    events = [e for e in read_sse(f"{web_server}/v1/reanalysis-runs/{run['id']}/events", key, timeout=300)
              if "data" in e]
    final = _wait_run(api, key, run["id"])
    assert final["state"] == "succeeded", final
    assert final["counts"] == {"selected": 600, "done": 600, "failed": 0} and final["progress"] == 100
    progress = [e["data"]["progress"] for e in events]
    assert progress == sorted(progress) and events[-1]["event"] == "end"
    assert events[-1]["data"]["state"] == "succeeded" and len(events) >= 3
    rows = _analyses(patients)
    assert len(rows) == 600 and {r["state"] for r in rows} == {"succeeded"}
    assert {r["attempts"] for r in rows} == {1}  # nothing analysed twice
    assert {r["versions"]["max_new_tokens"] for r in rows} == {str(BUDGET)}
    cached = sum(bool(runtime.cipher().decrypt_json(r["result_ciphertext"]).get("cached")) for r in rows)
    assert cached <= 2 * 9, cached  # the engine answered; only the planted text's 9 repeats a type may be cached
    status, journal, _ = api("GET", f"/v1/patients/{patients[0]}/journal", key=key)
    analyses = journal["entries"][0]["analyses"]
    assert {a["type"] for a in analyses} == {"risk", "sentiment"}
    assert all(a["model_id"] and a["run_id"] == run["id"] for a in analyses)
    # the run's flags are what change detection makes of the labels the model gave
    series = runtime.journals().run_series(runtime.journals().run(run["id"]))
    expected = detect(series, uuid.UUID(run["id"]), config.settings().trend_window)
    assert final["flags_raised"] == len(expected)
    # a second run finds nothing left at these versions
    again = _run(api, key, {"types": ["risk", "sentiment"], "patient_refs": patients})
    assert again["counts"]["selected"] == 0 and _wait_run(api, key, again["id"])["state"] == "succeeded"
    # the canaries were analysed, yet appear nowhere in clear
    leaks = []
    for name, blob in _redis_dump():
        leaks += _leaks(f"redis {name}", blob)
    for table, blob in _postgres_dump():
        leaks += _leaks(f"postgres {table}", blob)
    assert not leaks, "\n".join(leaks[:20])


def test_two_runs_at_once_analyse_each_pair_once(api, key, llm_worker):
    patients = [_journal(api, key, 30), _journal(api, key, 30)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: _run(api, key, {"types": ["risk"], "patient_refs": patients}), range(2)))
    finals = [_wait_run(api, key, r["id"]) for r in runs]
    assert [f["state"] for f in finals] == ["succeeded", "succeeded"]
    rows = _analyses(patients)
    assert len(rows) == 60 and {r["state"] for r in rows} == {"succeeded"} and {r["attempts"] for r in rows} == {1}
    # both runs saw the whole selection done, whichever of them analysed a pair
    assert all(f["counts"]["done"] == f["counts"]["selected"] for f in finals)


def test_a_version_change_reruns_only_that_type(api, key, llm_worker):
    patient = _journal(api, key, 20)
    first = _wait_run(api, key, _run(api, key, {"types": ["risk", "sentiment"], "patient_refs": [patient]})["id"])
    assert first["counts"]["done"] == 40
    # the stored sentiment analyses become what an earlier prompt version left: today's prompt is new to them
    runtime.sql().count("""
        UPDATE journal_analyses SET version_key = 'sentiment-before', versions = versions || '{"prompt_version": "sentiment@0"}'
         WHERE type = 'sentiment' AND id = ANY(%(ids)s)""", {"ids": [r["id"] for r in _analyses([patient], "sentiment")]})
    risk_before = {r["id"]: r["finished_at"] for r in _analyses([patient], "risk")}
    second = _run(api, key, {"types": ["risk", "sentiment"], "patient_refs": [patient]})
    assert second["counts"]["selected"] == 20
    assert _wait_run(api, key, second["id"])["counts"]["done"] == 20
    assert {r["id"]: r["finished_at"] for r in _analyses([patient], "risk")} == risk_before  # untouched
    sentiment = _analyses([patient], "sentiment")
    assert len(sentiment) == 40  # the old version's analyses stay, beside one new analysis per entry
    assert sorted(r["versions"]["prompt_version"] for r in sentiment) == ["sentiment@0"] * 20 + ["sentiment@1"] * 20


def test_a_killed_worker_mid_run_resumes_and_analyses_each_pair_once(api, key, llm_worker):
    patients = [_journal(api, key, 40), _journal(api, key, 40)]
    run = _run(api, key, {"types": ["risk"], "patient_refs": patients})
    wait_until(lambda: any(r["state"] == "succeeded" for r in _analyses(patients)), 120, 0.2,
               what="the first analyses")
    supervisor = psutil.Process(llm_worker.popen.pid)
    victim = supervisor.children()[0]
    victim.kill()  # SIGKILL mid-chunk: its lane messages and claims are left behind
    in_flight = [r for r in _analyses(patients) if r["state"] == "running"]
    wait_until(lambda: [c for c in supervisor.children() if c.pid != victim.pid], 30, what="a new worker process")
    wait_until(lambda: worker_alive(LLM_WORKER), 120, what="the restarted worker")

    def finished():
        reanalysis.resume_stalled(quiet_s=2)  # what the beat's tick does each minute
        _, body, _ = api("GET", f"/v1/reanalysis-runs/{run['id']}", key=key)
        return body if body["state"] not in ("queued", "running") else None

    final = wait_until(finished, 240, 1.0, what="the resumed run")
    assert final["state"] == "succeeded" and final["counts"]["done"] == 80, final
    rows = _analyses(patients)
    assert len(rows) == 80 and {r["state"] for r in rows} == {"succeeded"}
    if in_flight:  # the killed worker's claims were retaken after their leases lapsed
        retaken = {r["id"]: r["attempts"] for r in rows}
        assert all(retaken[r["id"]] == 2 for r in in_flight)


def test_a_deterioration_the_demo_model_reads_raises_flags(api, key, llm_worker):
    """No planted answers: hand-written posts no training set saw (tests/data/fresh_posts.jsonl),
    three everyday ones then three plainly depressed ones, and the demo model's own imhi.dr
    labels (it reads these six right, scrubbed, at this budget) make the flags."""
    fresh = {p["id"]: p for p in map(json.loads, FRESH_POSTS.read_text().splitlines())}
    chosen = ["f01", "f05", "f06", "f21", "f22", "f23"]
    assert [fresh[i]["depression"] for i in chosen] == ["no"] * 3 + ["yes"] * 3
    patient = _journal(api, key, 6, [f"{fresh[i]['text']} ({uuid.uuid4().hex[:4]})" for i in chosen])
    final = _wait_run(api, key, _run(api, key, {"types": ["imhi.dr"], "patient_refs": [patient]})["id"])
    assert final["state"] == "succeeded" and final["counts"]["done"] == 6, final
    status, journal, _ = api("GET", f"/v1/patients/{patient}/journal", key=key)
    assert status == 200
    labels = {e["entry_id"]: e["analyses"][0]["label"] for e in journal["entries"]}
    assert [labels[f"n{i}"] for i in range(6)] == ["no"] * 3 + ["yes"] * 3, labels
    rows = _analyses([patient])
    assert not any(runtime.cipher().decrypt_json(r["result_ciphertext"]).get("cached") for r in rows)  # all the engine's
    got = {(f["entry_id"], f["kind"]): (f["from"], f["to"], f["requires_attention"]) for f in final["flags"]}
    assert config.settings().trend_window == 3
    assert got == {("n3", "label_change"): ("no", "yes", False), ("n3", "negative_trend"): ("no", "yes", False),
                   ("n4", "negative_trend"): ("no", "yes", False)}, got


def _prime_cache(texts: list[str], labels: list[str]) -> None:
    """Plant the model's answers for these texts in the analysis result cache, as an earlier
    identical request would have left them: the run's analyses still go scrub → render →
    cache, so the deterioration is the model's as far as the run can tell."""
    import prompts
    from tasks.analysis import _cache_put, cache_key
    from tasks.provenance import current_versions
    from tasks.scrubbing import scrubber

    versions = current_versions("risk")  # the configured model's identity, as the worker's engine has it
    for text, label in zip(texts, labels, strict=True):
        prompt = prompts.render("risk", scrubber().scrub(text).text)
        _cache_put(cache_key(prompt, versions, BUDGET), {**versions, "label": label, "parsed": True,
                                                         "confidence": 0.9})


def test_a_planted_deterioration_raises_flags_and_a_signed_callback(api, key, llm_worker):
    from tasks.callbacks import sign

    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["X-Mindq-Signature"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    texts = [f"Week {i}: {uuid.uuid4().hex[:6]} things are getting harder." for i in range(5)]
    labels = ["low", "low", "medium", "high", "high"]
    _prime_cache(texts, labels)
    patient = _journal(api, key, 5, texts)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = _run(api, key, {"types": ["risk"], "patient_refs": [patient],
                              "callback_url": f"http://127.0.0.1:{server.server_port}/flags"})
        final = _wait_run(api, key, run["id"])
        wait_until(lambda: received, 60, what="the flags callback")
    finally:
        server.shutdown()
        server.server_close()
    got = {(f["entry_id"], f["kind"]): (f["from"], f["to"], f["requires_attention"]) for f in final["flags"]}
    assert got == {("n2", "risk_increase"): ("low", "medium", True), ("n2", "negative_trend"): ("low", "medium", True),
                   ("n3", "risk_increase"): ("medium", "high", True), ("n3", "negative_trend"): ("low", "high", True),
                   ("n4", "negative_trend"): ("medium", "high", True)}
    assert final["flags_raised"] == 5 and all(f["patient_ref"] == patient for f in final["flags"])
    status, flags, _ = api("GET", f"/v1/patients/{patient}/flags", key=key)
    assert status == 200 and len(flags["flags"]) == 5 and "patient_ref" not in flags["flags"][0]
    body, signature = received[0]
    assert signature == sign(body)
    assert json.loads(body) == {"event": "reanalysis.flags", "run_id": run["id"], "state": "succeeded",
                                "flags_raised": 5, "links": {"self": f"/v1/reanalysis-runs/{run['id']}"}}
    assert patient.encode() not in body and b"harder" not in body


def test_the_nightly_firing_and_the_cli_each_start_one_run(api, llm_worker, capsys):
    from mindq.cli import main

    engine = runtime.db()
    name = f"clinic-night-{uuid.uuid4().hex[:6]}"
    tenant = tenants.ensure_tenant(engine, name)
    key = tenants.add_key(engine, tenant, scopes=("journals:write", "journals:read"))
    patient = _journal(api, key, 6)
    store = runtime.journals()
    store.set_schedule(tenant, time_zone="Europe/Oslo", types=["risk"], callback_url=None, enabled=True)
    # 01:05 UTC is 02:05 in Oslo: MINDQ_NIGHTLY_CRON (0 2 * * *) fired five minutes ago there only
    now = dt.datetime(2026, 12, 2, 1, 5, tzinfo=dt.UTC)
    assert reanalysis.fire_nightly(now) == 1
    assert reanalysis.fire_nightly(now + dt.timedelta(minutes=1)) == 0  # the next tick: the same firing
    nightly = store.recent_runs(tenant)
    assert [(r["trigger"], sorted(r["versions"])) for r in nightly] == [("nightly", ["risk"])]
    assert _wait_run(api, key, str(nightly[0]["id"]))["counts"]["done"] == 6
    # the terminal: a run of the tenant's types, followed to its end with a progress bar
    _journal(api, key, 3)
    assert main(["journals", "reanalyze", "--tenant", name, "--since", "2026-10-02"]) == 0
    out = json.loads(capsys.readouterr().out)
    (run,) = out["runs"]
    assert run["trigger"] == "cli" and run["state"] == "succeeded" and run["types"] == ["risk"]
    assert run["counts"] == {"selected": 2, "done": 2, "failed": 0}  # the new patient's entries since Oct 2
    assert len(_analyses([patient])) == 6

