"""Platform throughput: raw no-op Celery tasks vs `scrub` jobs end to end through the API.

Same machine, same run, same cpu worker (prefork, 2 processes, each reserving MINDQ_CPU_PREFETCH
messages): first N no-op tasks are sent straight to the queue and timed until drained (the raw
rate); then N scrub jobs are submitted through the HTTP API by 1 and by 100 concurrent clients
and timed until every job row is terminal. Reports jobs/s, enqueue latency (POST → 202) p50/p99,
end-to-end latency (created_at → finished_at in PostgreSQL) p50/p99, the ratio to raw, the
Celery messages sent per job (cpu jobs submitted together share messages: tasks.enqueue) and the
CPU each part used per job.

The 1- and 100-client runs are closed loops (each client posts again as soon as it is answered:
the saturation throughput). Then the same 100 connections are paced at a quarter and at half the
100-client rate (open loop), where enqueue latency is service time rather than queueing; paced
requests arrive apart, so each is written and sent on its own. The load generator
(bench/loadgen.py) is lean, since it shares the machine's cores with the stack.

    .venv/bin/python -m bench.stack_load [--jobs 2000]
"""
from __future__ import annotations

import argparse
import sys
import time

from bench.harness import percentile, stack, start, wait_http, wait_worker
from bench.loadgen import post_jobs

TEXT = ("Journal: Dr. Alvarez called me at 555-201-3344 on March 3rd about my sleep. I felt hopeless "
        "most days this month and stopped going to my pottery class at 12 Elm Street.")


def drain_time(r, n: int, send) -> float:
    t0 = time.perf_counter()
    send(n)
    while r.llen("cpu") or r.hlen("unacked"):
        time.sleep(0.005)
    return time.perf_counter() - t0


def raw_rate(n: int) -> tuple[float, dict[str, float]]:
    """No-op tasks per second through the cpu worker, and the CPU ms each part spent per task."""
    from jobstore import runtime
    from tasks.app import app

    r = runtime.redis_client()

    def send(k: int) -> None:
        with app.producer_or_acquire() as producer:
            for i in range(k):
                app.send_task("mindq.noop", args=[i], queue="cpu", producer=producer)

    drain_time(r, 200, send)  # warm-up: worker pools, connections
    cpu0 = cpu_seconds()
    rate = n / drain_time(r, n, send)
    cpu1 = cpu_seconds()
    return rate, {k: (cpu1[k] - cpu0[k]) * 1000 / n for k in cpu0 if k != "web"}


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by each part of the stack on this machine (children included)."""
    import psutil

    parts = {"web": 0.0, "worker": 0.0, "postgres": 0.0, "redis": 0.0}
    for proc in psutil.process_iter(["cmdline", "cpu_times"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        times = proc.info["cpu_times"]
        if times is None:
            continue
        part = ("web" if "gunicorn" in cmd else "worker" if "worker.main worker" in cmd else
                "postgres" if "pginstall/bin/postgres" in cmd or cmd.startswith("postgres:") else
                "redis" if "redis-server" in cmd else None)
        if part:
            parts[part] += times.user + times.system
    me = psutil.Process().cpu_times()
    parts["bench client"] = me.user + me.system
    return parts


def api_run(api: str, key: str, n: int, clients: int, rate: float | None = None) -> dict:
    import sqlalchemy as sa

    from jobstore import runtime
    from jobstore.tables import jobs

    r = runtime.redis_client()
    lpush0 = _lpush_calls(r)
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    out = post_jobs(api, key, {"type": "scrub", "text": TEXT}, n=n, clients=clients, rate=rate)
    assert not out.errors, out.errors[:3]
    submit_s = time.perf_counter() - t0
    engine = runtime.db()
    while True:
        with engine.connect() as conn:
            left = conn.execute(sa.select(sa.func.count()).select_from(jobs)
                                .where(jobs.c.state.in_(("queued", "running")))).scalar_one()
        if left == 0:
            break
        time.sleep(0.02)
    total_s = time.perf_counter() - t0
    cpu1 = cpu_seconds()
    messages = _lpush_calls(r) - lpush0
    ids = out.ids
    cpu_ms = {k: (cpu1[k] - cpu0[k]) * 1000 / len(ids) for k in cpu0}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(jobs.c.state, jobs.c.created_at, jobs.c.finished_at)
                            .where(jobs.c.id.in_(ids))).all()
    e2e = [(r.finished_at - r.created_at).total_seconds() for r in rows]
    latencies = out.latencies
    return {"jobs": len(ids), "clients": clients, "jobs_per_s": len(ids) / total_s, "submit_s": submit_s,
            "offered_per_s": rate, "succeeded": sum(r.state == "succeeded" for r in rows),
            "enqueue_p50_ms": percentile(latencies, 50) * 1000, "enqueue_p99_ms": percentile(latencies, 99) * 1000,
            "e2e_p50_ms": percentile(e2e, 50) * 1000, "e2e_p99_ms": percentile(e2e, 99) * 1000,
            "messages_per_job": messages / len(ids), "cpu_ms_per_job": cpu_ms}


def _lpush_calls(r) -> int:
    """Messages sent to the broker so far (kombu sends each with one LPUSH)."""
    return r.info("commandstats").get("cmdstat_lpush", {}).get("calls", 0)


def report(label: str, res: dict, raw: float) -> None:
    # an open loop's throughput is the rate it was given: no ratio to raw for it
    ratio = "" if res["offered_per_s"] else f" | ratio to raw {res['jobs_per_s'] / raw:.2f}x"
    print(f"scrub jobs via API, {label}: {res['jobs_per_s']:,.0f} jobs/s "
          f"({res['succeeded']}/{res['jobs']} succeeded) | enqueue p50 {res['enqueue_p50_ms']:.1f} ms "
          f"p99 {res['enqueue_p99_ms']:.1f} ms | end-to-end p50 {res['e2e_p50_ms']:.0f} ms "
          f"p99 {res['e2e_p99_ms']:.0f} ms{ratio}")
    print(f"    Celery messages per job: {res['messages_per_job']:.2f}")
    print("    CPU ms per job: " + ", ".join(f"{k} {v:.2f}" for k, v in res["cpu_ms_per_job"].items()))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--open-rate", type=float, action="append",
                        help="open-loop request rate, repeatable (default: --open-fraction of the closed-loop rate)")
    parser.add_argument("--open-fraction", type=float, action="append",
                        help="repeatable; default 0.25 and 0.5")
    parser.add_argument("--open-seconds", type=float, default=10.0)
    args = parser.parse_args()
    with stack(web_workers=args.web_workers) as ctx:
        start(ctx, "worker", "cpu", log="worker-cpu")
        start(ctx, "web", log="web")
        wait_worker("cpu@")
        wait_http(ctx["api"] + "/health/live")
        raw, raw_cpu = raw_rate(args.jobs)
        print(f"raw no-op Celery tasks: {raw:,.0f} tasks/s ({args.jobs} tasks, cpu worker prefork x2)")
        print("    CPU ms per task: " + ", ".join(f"{k} {v:.2f}" for k, v in raw_cpu.items()))
        api_run(ctx["api"], ctx["key"], 100, 10)  # warm-up: scrubber dictionaries, pools
        one = api_run(ctx["api"], ctx["key"], max(200, args.jobs // 5), 1)
        report("  1 client  (closed loop)", one, raw)
        full = api_run(ctx["api"], ctx["key"], args.jobs, 100)
        report("100 clients (closed loop)", full, raw)
        # the same 100 connections paced below saturation: latency without the queue that a
        # closed loop builds (100 requests in flight = 100 / rate s). Paced requests arrive
        # apart, so they are written and sent one by one (no group commit, a message per job):
        # the stack's capacity for them is lower than for the closed loop's bursts
        rates = args.open_rate or [round(f * full["jobs_per_s"]) for f in args.open_fraction or (0.25, 0.5)]
        for rate in rates:
            paced = api_run(ctx["api"], ctx["key"], max(200, int(rate * args.open_seconds)), 100, rate=rate)
            report(f"100 clients (open loop, {rate}/s offered)", paced, raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
