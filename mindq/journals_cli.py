"""``mindq journals``: re-analysis runs from the terminal, and each tenant's nightly schedule.

``reanalyze`` starts a run per tenant (one with ``--tenant``, else every tenant that keeps
journals) on the stack's database and workers, and follows it with a progress bar until it
ends; Ctrl-C stops following, not the run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import zoneinfo


def register(sub) -> None:
    p = sub.add_parser("journals", help="patient journals: re-analysis runs and the nightly schedule")
    jsub = p.add_subparsers(dest="journals_cmd", required=True)
    r = jsub.add_parser("reanalyze", help="analyse every entry that has no analysis at today's model, prompt, "
                        "parser and scrubber versions; shows a progress bar")
    r.add_argument("--tenant", help="a tenant's name (default: every tenant with journal entries)")
    r.add_argument("--since", type=_when, help="only entries written at or after this (ISO 8601; a date is "
                   "midnight UTC)")
    r.add_argument("--types", help="comma-separated LLM types (default: the tenant's nightly types)")
    r.add_argument("--no-wait", action="store_true", help="start the runs and print them, without following")
    r.set_defaults(func=cmd_reanalyze)
    s = jsub.add_parser("schedule", help="set a tenant's nightly run: time zone, types, callback (the time is "
                        "MINDQ_NIGHTLY_CRON)")
    s.add_argument("tenant")
    s.add_argument("--tz", default="UTC", help="an IANA time zone, e.g. Europe/Oslo")
    s.add_argument("--types", help="comma-separated LLM types (default: MINDQ_NIGHTLY_TYPES)")
    s.add_argument("--callback-url", help="signed POST when a nightly run raises flags")
    s.add_argument("--disable", action="store_true", help="no nightly runs for this tenant")
    s.set_defaults(func=cmd_schedule)


def _when(value: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("not an ISO 8601 date or time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _tenant_id(name: str):
    from jobstore import runtime, tenants

    found = tenants.find_tenant(runtime.db(), name)
    if found is None:
        sys.exit(f"mindq journals: no tenant named {name!r}")
    return found


def _types(value: str | None) -> list[str] | None:
    from tasks.reanalysis import analysable_types

    if not value:
        return None
    types = [t.strip() for t in value.split(",") if t.strip()]
    unknown = sorted(set(types) - set(analysable_types()))
    if unknown:
        sys.exit(f"mindq journals: unknown or unsupported type(s) {', '.join(unknown)}; "
                 f"known: {', '.join(analysable_types())}")
    return types


def cmd_reanalyze(args) -> int:
    from jobstore import runtime
    from tasks import reanalysis

    store = runtime.journals()
    types = _types(args.types)
    if args.tenant:
        tenant_ids = [_tenant_id(args.tenant)]
    else:
        tenant_ids = [s["tenant_id"] for s in store.schedules()]
    runs = []
    for tenant_id in tenant_ids:
        schedule = store.schedule(tenant_id)
        run_types = types or reanalysis.default_types(schedule["types"] if schedule else None)
        run = reanalysis.create_run(tenant_id, trigger="cli", types=run_types, actor="cli", since=args.since)
        if run is not None:
            runs.append(run)
    if not runs:
        print(json.dumps({"runs": []}))
        return 0
    if not args.no_wait:
        try:
            runs = follow(store, [r["id"] for r in runs])
        except KeyboardInterrupt:
            print("mindq journals: stopped following; the runs go on", file=sys.stderr)
            runs = [store.run(r["id"]) or r for r in runs]
    print(json.dumps({"runs": [reanalysis.run_view(r) for r in runs]}, indent=2))
    return 0 if all(r["state"] in ("queued", "running", "succeeded") for r in runs) else 1


def follow(store, run_ids: list, poll_s: float = 0.5) -> list[dict]:
    """A progress bar over the runs' selected pairs until every run has ended."""
    from tqdm import tqdm

    with tqdm(total=None, desc="re-analysing", unit="pair", dynamic_ncols=True) as bar:
        while True:
            runs = [store.run(run_id) for run_id in run_ids]
            ended = all(r["state"] not in ("queued", "running") for r in runs)
            selected = sum(r["selected"] for r in runs)
            finished = selected if ended else sum(r["done"] + r["failed"] for r in runs)
            failed = sum(r["failed"] for r in runs)
            bar.total = selected
            bar.update(finished - bar.n)
            if failed:
                bar.set_postfix(failed=failed)
            if ended:
                return runs
            time.sleep(poll_s)


def cmd_schedule(args) -> int:
    from jobstore import runtime

    try:
        zoneinfo.ZoneInfo(args.tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        sys.exit(f"mindq journals: unknown time zone {args.tz!r}")
    tenant_id = _tenant_id(args.tenant)
    row = runtime.journals().set_schedule(tenant_id, time_zone=args.tz, types=_types(args.types),
                                          callback_url=args.callback_url, enabled=not args.disable)
    assert row is not None
    print(json.dumps({"tenant": args.tenant, "time_zone": row["time_zone"], "types": row["types"],
                      "callback_url": row["callback_url"], "enabled": row["enabled"]}))
    return 0
