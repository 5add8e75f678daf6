"""Nightly re-analysis: its throughput alone, and what it does to interactive latency, in one run.

A throwaway stack (embedded Redis + PostgreSQL, one gpu worker (the CPU fallback here), one
web process) holds --entries journal entries over --patients patients. Three phases:

  1. idle: --clients closed-loop clients (mindq.client) submit interactive ``risk`` jobs
     (--interactive-jobs in all) and wait for each; latency = the job's finished_at - created_at;
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
from collections.abc import Callable
from pathlib import Path

from bench.harness import percentile, stack, start, wait_http, wait_worker
from bench.llm import build_model
from mindq.client import Client

MOODS = ("slept badly and woke at four", "walked with my sister, felt lighter", "skipped meals, tired all day",
         "argued at work, could not stop worrying", "calm evening, read a book", "heavy and empty again")


def add_entries(mq: Client, entries: int, patients: int) -> None:
    per = max(1, entries // patients)
    base = dt.datetime(2026, 1, 1, 21, 0, tzinfo=dt.UTC)
    left, p = entries, 0
    while left > 0:
        n = min(per, left, 1000)
        mq.add_journal_entries(f"bench-{p}", [
            {"entry_id": f"e{i}", "written_at": (base + dt.timedelta(days=i)).isoformat(),
             "text": f"Night {i} of {p}: {MOODS[(i + p) % len(MOODS)]}."} for i in range(n)])
        left, p = left - n, p + 1


def interactive(client: Callable[[], Client], jobs: int, clients: int, new_tokens: int, tag: str) -> list[float]:
    """Closed loop: each client submits a job and follows it to its end (the client's SSE wait);
    returns latencies (s), the job's finished_at - created_at. Texts differ by ``tag``: a
    repeated prompt would be answered from the result cache."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(jobs))

    def one_client() -> None:
        with client() as mq:
            for i in counter:
                job = mq.submit("risk", f"Interactive {tag}-{i}: I feel on edge tonight.",
                                options={"max_new_tokens": new_tokens})
                done = mq.wait(job.id, timeout=300)
                with lock:
                    latencies.append((dt.datetime.fromisoformat(done.raw["finished_at"])
                                      - dt.datetime.fromisoformat(done.raw["created_at"])).total_seconds())

    threads = [threading.Thread(target=one_client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


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

        def client() -> Client:
            return Client(ctx["api"], key, timeout=120)

        with client() as mq:
            t0 = time.perf_counter()
            add_entries(mq, args.entries, args.patients)
            print(f"stored {args.entries} entries for {args.patients} patients in {time.perf_counter() - t0:.1f} s",
                  flush=True)
            interactive(client, 4, 1, args.new_tokens, "warm")  # warm-up: scrubber, engine, caches of the web process
            idle = interactive(client, args.interactive_jobs, args.clients, args.new_tokens, "idle")
            print(f"idle interactive: p50 {percentile(idle, 50):.2f} s p95 {percentile(idle, 95):.2f} s", flush=True)

            alone = mq.wait_reanalysis(mq.start_reanalysis(["risk"])["id"])
            took = (dt.datetime.fromisoformat(alone["finished_at"])
                    - dt.datetime.fromisoformat(alone["started_at"])).total_seconds()
            per_min = 60 * alone["counts"]["done"] / took
            print(f"run alone: {alone['counts']} in {took:.1f} s = {per_min:,.0f} entries/min "
                  f"(state {alone['state']}, flags {alone['flags_raised']})", flush=True)

            during_id = mq.start_reanalysis(["sentiment"])["id"]
            while mq.get_reanalysis(during_id)["counts"]["done"] < 1:
                time.sleep(0.2)
            busy = interactive(client, args.interactive_jobs, args.clients, args.new_tokens, "busy")
            during = mq.get_reanalysis(during_id)
            still_going = during["state"] == "running"
            mq.cancel_reanalysis(during_id)
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
