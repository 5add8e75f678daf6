"""The commands for API users (``mindq submit``, ``mindq batch``, ``mindq status``), on
mindq.client. The API URL and key default to ``$MINDQ_HOME/stack.json`` and ``MINDQ_API_KEY``."""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from mindq.client import Client, Event, MindqError

QUEUE_DEPTH = re.compile(r'^mindq_queue_depth\{queue="([^"]+)"\} ([0-9.e+]+)$', re.M)
JOBS_BY_STATE = re.compile(r'^mindq_jobs\{state="([^"]+)"\} ([0-9.e+]+)$', re.M)


def _client(args: argparse.Namespace) -> Client:
    try:
        return Client.from_env(args.api, args.key)
    except MindqError as exc:
        sys.exit(f"mindq {args.cmd}: {exc.message}")


def cmd_submit(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"type": args.type, "priority": args.priority}
    if args.payload_file:
        body["payload"] = json.loads(_read(args.payload_file))
    else:
        body["text"] = _read(args.text_file or "-")
    if args.patient_ref:
        body["patient_ref"] = args.patient_ref
    with _client(args) as mq:
        try:
            job = mq.submit_body(body, idempotency_key=args.idempotency_key)
            if args.wait and not job.terminal:
                job = mq.wait(job.id, on_event=_say_event if not args.quiet else None)
        except MindqError as exc:
            print(json.dumps({"error": {"code": exc.code, "message": exc.message, "details": exc.details}}))
            return 1
    print(json.dumps(job.raw if not args.wait else _job_view(job.raw)))
    return 0 if job.state in ("queued", "running", "succeeded") else 1


def _job_view(raw: dict) -> dict:
    return {k: raw.get(k) for k in ("id", "type", "state", "stage", "progress", "created_at", "finished_at",
                                    "result", "error")}


def _say_event(event: Event) -> None:
    d = event.data
    print(f"mindq | {d.get('state')} {d.get('stage')} {d.get('progress')}%", file=sys.stderr, flush=True)


def _read(path: str) -> str:
    return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")


def cmd_batch(args: argparse.Namespace) -> int:
    from mindq.batch import BatchInputError, run_batch

    options = json.loads(args.options) if args.options else None
    with _client(args) as mq:
        try:
            summary = run_batch(mq, args.type, Path(args.input), Path(args.out), concurrency=args.concurrency,
                                options=options, priority=args.priority, progress=not args.quiet)
        except BatchInputError as exc:
            sys.exit(f"mindq batch: {exc}")
        except KeyboardInterrupt:
            print("mindq batch: interrupted; run the same command again to resume", file=sys.stderr)
            return 130
    print(json.dumps(summary.__dict__), file=sys.stderr)
    return 0 if summary.unfinished == 0 else 3


def cmd_status(args: argparse.Namespace) -> int:
    with _client(args) as mq:
        ready = mq.ready()
        out: dict[str, Any] = {"api": mq.api, "status": ready.get("status"), "queues": {}, "workers": ready.get("workers", [])}
        for name, check in ready.get("checks", {}).items():
            if name.startswith("queue:"):
                out["queues"][name[6:]] = {"workers": check.get("workers", [])}
        try:
            text = mq.metrics(token=_metrics_token())
            for queue, depth in QUEUE_DEPTH.findall(text):
                out["queues"].setdefault(queue, {})["waiting"] = int(float(depth))
            out["jobs"] = {state: int(float(n)) for state, n in JOBS_BY_STATE.findall(text)}
        except MindqError as exc:
            out["jobs"] = None
            out["metrics"] = f"not readable ({exc.status}): needs an admin key or MINDQ_METRICS_TOKEN"
        try:
            out["recent_failures"] = [{"id": j.id, "type": j.type, "finished_at": j.raw.get("finished_at"),
                                       "error": (j.error or {}).get("code")} for j in mq.jobs("failed", 10)]
        except MindqError as exc:
            out["recent_failures"] = f"not readable ({exc.status})"
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        _print_status(out)
    return 0 if out["status"] == "ready" else 1


def _metrics_token() -> str | None:
    token = os.environ.get("MINDQ_METRICS_TOKEN")
    if token:
        return token
    try:
        return (Path(os.environ.get("MINDQ_HOME") or "./.mindq") / "secrets" / "metrics.token").read_text().strip()
    except OSError:
        return None


def _print_status(out: dict[str, Any]) -> None:
    print(f"{out['api']}: {out['status']}")
    print("queues:")
    for name, q in out["queues"].items():
        waiting = q.get("waiting", "?")
        print(f"  {name:<18} waiting {waiting:<6} workers {', '.join(q.get('workers', [])) or '-'}")
    print("workers:")
    for w in out["workers"]:
        print(f"  {w.get('hostname')}  {w.get('kind', '')}  {w.get('device', '')}  {w.get('model_id', '') or ''}")
    if out.get("jobs") is not None:
        print("jobs: " + ", ".join(f"{k} {v}" for k, v in out["jobs"].items()))
    else:
        print(f"jobs: {out.get('metrics')}")
    failures = out["recent_failures"]
    print("recent failures:" + ("" if isinstance(failures, list) and failures else " none"
                                 if isinstance(failures, list) else f" {failures}"))
    for f in failures if isinstance(failures, list) else []:
        print(f"  {f['finished_at']}  {f['id']}  {f['type']}  {f['error']}")


def add_commands(sub: Any) -> None:
    """Adds submit, batch and status to the ``mindq`` parser's subcommands."""
    def connection(p: argparse.ArgumentParser) -> None:
        p.add_argument("--api", help="API base URL (default: $MINDQ_HOME/stack.json)")
        p.add_argument("--key", help="API key (default: $MINDQ_API_KEY)")

    p = sub.add_parser("submit", help="submit one job; prints the job (with --wait: once it has finished)")
    p.add_argument("--type", required=True, help="analysis type (see /v1/analysis-types)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--text-file", metavar="F", help="the text; '-' (the default) reads stdin")
    src.add_argument("--payload-file", metavar="F", help="a JSON payload (forecasting types); '-' reads stdin")
    p.add_argument("--patient-ref")
    p.add_argument("--priority", default="interactive", choices=["interactive", "batch"])
    p.add_argument("--idempotency-key")
    p.add_argument("--wait", action="store_true", help="follow the job's events until it finishes")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    connection(p)
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("batch", help="run every line of IN.jsonl ({\"id\", \"text\"} or {\"id\", ...payload}) "
                                     "into OUT.jsonl; run it again to resume")
    p.add_argument("input", metavar="IN.jsonl")
    p.add_argument("--type", required=True)
    p.add_argument("--out", required=True, metavar="OUT.jsonl")
    p.add_argument("--concurrency", type=int, default=8, help="jobs in flight at once (default 8)")
    p.add_argument("--priority", default="batch", choices=["interactive", "batch"])
    p.add_argument("--options", help="JSON object of options for every line")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    connection(p)
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("status", help="queues, workers and recent failures of a running stack")
    p.add_argument("--json", action="store_true")
    connection(p)
    p.set_defaults(func=cmd_status)
