"""Nightly re-analysis: its throughput alone, and what it does to interactive latency, in one run.

A throwaway stack (embedded Redis + PostgreSQL, one gpu worker (the CPU fallback here), one
web process) holds --entries journal entries over --patients patients. Three phases:

  1. idle: --clients closed-loop clients submit interactive ``risk`` jobs (--interactive-jobs
     in all) and wait for each; latency = the job's finished_at - created_at;
  2. the run alone: a re-analysis run of every entry for ``risk``; entries/min over its
     started_at → finished_at;
  3. the same interactive load while a second run (``sentiment``, the same entries) is going;
     that run is cancelled once the load is done.

Both kinds use the same generation budget (--new-tokens; the run through
MINDQ_REANALYSIS_MAX_NEW_TOKENS), so the only difference is the queue and the priority.
The goal (issue 16): interactive p95 during a run within 1.5x of idle.

CPU (every session):  .venv/bin/python -m bench.nightly --entries 10000
GPU (when lent one):  .venv/bin/python -m bench.nightly --shape 7b --dtype bf16 --max-batch 128 \\
                          --entries 10000 --new-tokens 16   (then 100,000 entries take 10x the run's time)
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
import time
from pathlib import Path

import httpx

from bench.harness import percentile, stack, start, wait_http, wait_worker
from bench.llm import build_model

MOODS = ("slept badly and woke at four", "walked with my sister, felt lighter", "skipped meals, tired all day",
         "argued at work, could not stop worrying", "calm evening, read a book", "heavy and empty again")


def add_entries(c: httpx.Client, entries: int, patients: int) -> None:
    per = max(1, entries // patients)
    base = dt.datetime(2026, 1, 1, 21, 0, tzinfo=dt.UTC)
    left, p = entries, 0
    while left > 0:
        n = min(per, left, 1000)
        body = {"entries": [{"entry_id": f"e{i}", "written_at": (base + dt.timedelta(days=i)).isoformat(),
                             "text": f"Night {i} of {p}: {MOODS[(i + p) % len(MOODS)]}."} for i in range(n)]}
        r = c.post(f"/v1/patients/bench-{p}/journal", json=body)
        assert r.status_code in (200, 201), r.text
        left, p = left - n, p + 1


def interactive(c_factory, jobs: int, clients: int, new_tokens: int, tag: str) -> list[float]:
    """Closed loop: each client submits a job and polls it to its end; returns latencies (s).
    Texts differ by ``tag``: a repeated prompt would be answered from the result cache."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(jobs))

    def client() -> None:
        with c_factory() as c:
            for i in counter:
                r = c.post("/v1/jobs", json={"type": "risk", "text": f"Interactive {tag}-{i}: I feel on edge tonight.",
                                             "options": {"max_new_tokens": new_tokens}})
                assert r.status_code == 202, r.text
                job_id = r.json()["id"]
                while True:
                    job = c.get(f"/v1/jobs/{job_id}").json()
                    if job["state"] in ("succeeded", "failed", "cancelled"):
                        break
                    time.sleep(0.02)
                done = dt.datetime.fromisoformat(job["finished_at"])
                with lock:
                    latencies.append((done - dt.datetime.fromisoformat(job["created_at"])).total_seconds())

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def wait_run(c: httpx.Client, run_id: str, poll_s: float = 1.0) -> dict:
    while True:
        run = c.get(f"/v1/reanalysis-runs/{run_id}").json()
        if run["state"] not in ("queued", "running"):
            return run
        time.sleep(poll_s)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--patients", type=int, default=100)
    ap.add_argument("--interactive-jobs", type=int, default=40, help="per phase")
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--new-tokens", type=int, default=8)
    ap.add_argument("--shape", default=None, help="tiny | small | 7b; default: the configured (demo or tiny) model")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--max-batch", type=int, default=32)
    ap.add_argument("--lanes", type=int, default=0, help="MINDQ_REANALYSIS_LANES (0: the default)")
    ap.add_argument("--chunk", type=int, default=8, help="MINDQ_REANALYSIS_CHUNK")
    ap.add_argument("--model-dir", type=Path, default=Path(".mindq/bench-models"))
    args = ap.parse_args()

    env = {"MODEL_MAX_BATCH": str(args.max_batch), "MODEL_DTYPE": args.dtype, "MINDQ_GPUS": "auto",
           "MINDQ_REANALYSIS_MAX_NEW_TOKENS": str(args.new_tokens), "MINDQ_REANALYSIS_LANES": str(args.lanes),
           "MINDQ_REANALYSIS_CHUNK": str(args.chunk)}
    if args.shape:
        base, adapter = build_model(args.shape, args.model_dir / args.shape)
        env.update(MODEL_BASE_PATH=str(base), MODEL_ADAPTER_PATH=str(adapter))
    with stack(web_workers=1, extra_env=env) as ctx:
        from jobstore import runtime, tenants

        key = tenants.add_key(runtime.db(), tenants.ensure_tenant(runtime.db(), "bench"), scopes=tenants.ALL_SCOPES)
        start(ctx, "worker", "gpu", log="worker-gpu")
        start(ctx, "web", log="web")
        wait_http(ctx["api"] + "/health/live")
        wait_worker("", 300)

        def client() -> httpx.Client:
            return httpx.Client(base_url=ctx["api"], headers={"Authorization": f"Bearer {key}"}, timeout=120)

        with client() as c:
            t0 = time.perf_counter()
            add_entries(c, args.entries, args.patients)
            print(f"stored {args.entries} entries for {args.patients} patients in {time.perf_counter() - t0:.1f} s",
                  flush=True)
            interactive(client, 4, 1, args.new_tokens, "warm")  # warm-up: scrubber, engine, caches of the web process
            idle = interactive(client, args.interactive_jobs, args.clients, args.new_tokens, "idle")
            print(f"idle interactive: p50 {percentile(idle, 50):.2f} s p95 {percentile(idle, 95):.2f} s", flush=True)

            r = c.post("/v1/reanalysis-runs", json={"types": ["risk"]})
            assert r.status_code == 202, r.text
            alone = wait_run(c, r.json()["id"])
            took = (dt.datetime.fromisoformat(alone["finished_at"])
                    - dt.datetime.fromisoformat(alone["started_at"])).total_seconds()
            per_min = 60 * alone["counts"]["done"] / took
            print(f"run alone: {alone['counts']} in {took:.1f} s = {per_min:,.0f} entries/min "
                  f"(state {alone['state']}, flags {alone['flags_raised']})", flush=True)

            r = c.post("/v1/reanalysis-runs", json={"types": ["sentiment"]})
            assert r.status_code == 202, r.text
            during_id = r.json()["id"]
            while c.get(f"/v1/reanalysis-runs/{during_id}").json()["counts"]["done"] < 1:
                time.sleep(0.2)
            busy = interactive(client, args.interactive_jobs, args.clients, args.new_tokens, "busy")
            during = c.get(f"/v1/reanalysis-runs/{during_id}").json()
            still_going = during["state"] == "running"
            c.delete(f"/v1/reanalysis-runs/{during_id}")
        p95_idle, p95_busy = percentile(idle, 95), percentile(busy, 95)
        print(f"interactive during a run: p50 {percentile(busy, 50):.2f} s p95 {p95_busy:.2f} s "
              f"(the run {'still going' if still_going else 'had ended'} at the end of it, "
              f"{during['counts']['done']} of {during['counts']['selected']} done)")
        print(f"ratio p95 during / idle: {p95_busy / p95_idle:.2f}x (goal <= 1.5x); p50 ratio "
              f"{percentile(busy, 50) / percentile(idle, 50):.2f}x")
        print(f"100,000 entries at this rate: {100000 / per_min / 60:.1f} h (goal <= 8 h on one H100)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
