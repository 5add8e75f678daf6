"""schemathesis over /openapi.json: every documented operation fuzzed against a real stack.

Starts a throwaway stack (embedded Redis + PostgreSQL, the web role's gunicorn line, a cpu
worker) unless given a running one, runs the schemathesis command line with every check
(server errors, status codes, content types, headers and bodies against the document, valid
input accepted, invalid input refused, methods, auth), and prints the figures:

    .venv/bin/python -m bench.fuzz [--examples 60] [--no-worker] [--api http://127.0.0.1:8000 --key KEY]

Exits non-zero on any failure. The suite runs the same function with fewer examples
(tests/platform/test_openapi_fuzz.py).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# failure kinds (schemathesis's own names) that mean a response disagreed with the document
SCHEMA_VIOLATIONS = {"UndefinedStatusCode", "MissingContentType", "UndefinedContentType", "MalformedMediaType",
                     "MissingHeaders", "JsonSchemaError", "MalformedJson", "ContentDeserializationError",
                     "DiscriminatorMismatch"}
SERVER_ERRORS = {"ServerError", "ContentTypeServerError"}
# DELETE /v1/jobs/{id} cancels: the job is still there afterwards, by contract (DESIGN.md), so
# schemathesis's "a deleted resource is gone" check does not apply to it.
EXCLUDED_CHECKS = ("use_after_free",)
CONFIG = """
# POST /v1/jobs and /v1/batches: a valid body's 422 is judged by bench/fuzz_hooks.py's check instead
# (allowed only for the rules the document states in prose)
[[operations]]
include-name = "POST /v1/jobs"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-name = "POST /v1/batches"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

# POST /fhir/r4/Task: a 400 or 422 for a body the schema calls valid is judged by bench/fuzz_hooks.py
# (the FHIR specification and the rules the document states in prose)
[[operations]]
include-name = "POST /fhir/r4/Task"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429", "5xx"]

# a job's events stream until its terminal event: a queued job's stream stays open with heartbeats,
# so schemathesis reads a few events for a moment and cuts it
[[operations]]
include-name = "GET /v1/jobs/{job_id}/events"
request-timeout = 1
max-stream-events = 5
# schemathesis fills Last-Event-ID from values other responses carried (a bare "0") and still calls
# the request valid; the API's 400 for an id outside the pattern is checked exactly, value by value,
# in tests/platform/test_openapi_conformance.py
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# a re-analysis run's events, likewise: a run nobody works on stays open with heartbeats
[[operations]]
include-name = "GET /v1/reanalysis-runs/{run_id}/events"
request-timeout = 1
max-stream-events = 5
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# readiness answers 503 while a queue has no worker: its documented "not ready", not a server error
[[operations]]
include-name = "GET /health/ready"
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "503"]
"""


def run(api: str, key: str, examples: int, workdir: Path, seed: int | None = None,
        phases: str = "examples,coverage,fuzzing,stateful", max_time: int | None = None,
        paths: str | None = None, exclude_paths: str | None = None) -> dict:
    """One schemathesis run; returns {"cases", "failures": {kind: n}, "server_errors",
    "schema_violations", "seconds", "exit_code", "report", "output"}."""
    workdir.mkdir(parents=True, exist_ok=True)
    report = workdir / "schemathesis.json"
    config = workdir / "schemathesis.toml"
    config.write_text(CONFIG)
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", f"{api}/openapi.json",
           "--url", api, "-H", f"Authorization: Bearer {key}", "--checks", "all",
           "--exclude-checks", ",".join(EXCLUDED_CHECKS), "--max-examples", str(examples),
           "--phases", phases, "--continue-on-failure", "--request-timeout", "20", "--workers", "2",
           "--suppress-health-check", "all", "--report", "json", "--report-json-path", str(report),
           "--warnings", "off"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if max_time is not None:
        cmd += ["--max-time", str(max_time)]
    if paths is not None:
        cmd += ["--include-path-regex", paths]
    if exclude_paths is not None:
        cmd += ["--exclude-path-regex", exclude_paths]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "bench.fuzz_hooks",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=env)
    seconds = time.monotonic() - started
    (workdir / "schemathesis.out").write_text(proc.stdout + proc.stderr)  # every failure, with its curl line
    figures: dict[str, Any] = summarise(json.loads(report.read_text())) if report.exists() else {
        "cases": 0, "failures": {}}
    failures: dict[str, int] = figures["failures"]
    return {**figures, "seconds": round(seconds, 1), "exit_code": proc.returncode,
            "server_errors": sum(n for kind, n in failures.items() if kind in SERVER_ERRORS),
            "schema_violations": sum(n for kind, n in failures.items() if kind in SCHEMA_VIOLATIONS),
            "report": str(report), "output": proc.stdout[-20000:] + proc.stderr[-5000:]}


def summarise(report: dict) -> dict:
    """Test cases sent and failures by kind (with their operations), from the JSON run report."""
    failures: Counter[str] = Counter()
    where: dict[str, list[str]] = {}
    for failure in report.get("failures", []):
        kind = failure.get("type") or failure.get("code") or "?"
        failures[kind] += failure.get("count", 1)
        where.setdefault(kind, []).extend(failure.get("operations", []))
    return {"cases": report.get("test_cases", {}).get("generated", 0), "failures": dict(failures),
            "failing_operations": where, "errors": len(report.get("errors", [])),
            "operations": report.get("operations", {}).get("tested", 0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=60, help="cases per operation and phase")
    parser.add_argument("--api", help="a running stack's API (default: start one)")
    parser.add_argument("--key", help="its API key (an admin key reaches /metrics too)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--no-worker", action="store_true", help="no cpu worker: every job stays queued")
    parser.add_argument("--paths", help="only the operations whose path matches this regex")
    parser.add_argument("--exclude-paths", help="leave out the operations whose path matches this regex")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mindq-fuzz-"))
    if args.api:
        if not args.key:
            parser.error("--api needs --key")
        result = run(args.api, args.key, args.examples, workdir, args.seed, args.phases, paths=args.paths,
                     exclude_paths=args.exclude_paths)
    else:
        from bench.harness import stack, start, wait_http, wait_worker

        with stack() as ctx:
            start(ctx, "web", log="web")
            wait_http(ctx["api"] + "/health/live")
            if not args.no_worker:  # jobs then run to their end, so results and finished jobs are fuzzed too
                start(ctx, "worker", "cpu", log="worker-cpu")
                wait_worker("cpu@", 900)  # it trains the default forecasting models first
            result = run(ctx["api"], _admin_key(), args.examples, workdir, args.seed, args.phases, paths=args.paths,
                     exclude_paths=args.exclude_paths)
    print(result["output"][-6000:] if result["cases"] == 0 or result["failures"] else "")
    print(json.dumps({k: result[k] for k in ("operations", "cases", "server_errors", "schema_violations", "failures",
                                             "failing_operations", "errors", "seconds", "exit_code", "report")},
                     indent=2))
    return 0 if result["exit_code"] == 0 and not result["failures"] else 1


def _admin_key() -> str:
    """A key with every scope, so that /metrics and every scope-guarded operation are reached."""
    from jobstore import runtime, tenants

    engine = runtime.db()
    return tenants.add_key(engine, tenants.ensure_tenant(engine, "fuzz"), scopes=tenants.ALL_SCOPES)


if __name__ == "__main__":
    sys.exit(main())
