"""schemathesis over /openapi.json against the web role's real gunicorn line: every documented
operation (whoever documents a new one, it is fuzzed here too), every check. A few hundred cases;
`python -m bench.fuzz` runs the same with thousands."""
from __future__ import annotations

from bench.fuzz import run
from jobstore import runtime, tenants

SEED = 17  # a fixed seed: a failure here reproduces with `python -m bench.fuzz --seed 17`


def test_schemathesis_finds_no_server_error_and_no_schema_violation(web_server, tmp_path):
    engine = runtime.db()
    key = tenants.add_key(engine, tenants.ensure_tenant(engine, "fuzz"), scopes=tenants.ALL_SCOPES)
    # the fuzzing phase only (bench.fuzz adds the coverage and stateful phases): under a minute here
    try:
        result = run(web_server, key, examples=40, workdir=tmp_path, seed=SEED, phases="examples,fuzzing")
    finally:
        _cancel_what_it_submitted(web_server, key)
    summary = {k: result[k] for k in ("operations", "cases", "server_errors", "schema_violations", "failures",
                                      "failing_operations", "seconds")}
    assert result["operations"] >= 24 and result["cases"] >= 250, summary
    assert result["server_errors"] == 0 and result["schema_violations"] == 0, result["output"][-8000:]
    assert not result["failures"] and result["exit_code"] == 0, result["output"][-8000:]


def _cancel_what_it_submitted(api: str, key: str) -> None:
    """The fuzz submits a few hundred valid jobs: cancel those still waiting, so the session's
    workers do not spend the following tests' time on them (the suite timed out behind them)."""
    import httpx

    auth = {"Authorization": f"Bearer {key}"}
    for state in ("queued", "running"):
        for _ in range(20):
            jobs = httpx.get(f"{api}/v1/jobs", params={"state": state, "limit": 500}, headers=auth, timeout=30).json()
            if not jobs.get("jobs"):
                break
            for job in jobs["jobs"]:
                httpx.delete(f"{api}/v1/jobs/{job['id']}", headers=auth, timeout=30)
