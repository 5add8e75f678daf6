"""SSE fan-out: 1,000 concurrent clients on one web process following live jobs.

One gunicorn + gevent web process serves every stream. The benchmark drives the jobs itself
(what a worker does: a conditional PostgreSQL update, then an event appended to the job's Redis
stream, stamped with the time) and every client records when each event arrives. Reports the
delay from state change to client (p50/p99), events delivered vs expected (dropped = 0 is the
bar), and the web process's memory per open stream (RSS with all streams open minus RSS
before, divided by the number of streams). Baseline in the same run: the same delays measured
with 1 client, so the ratio shows what fan-out costs.

    .venv/bin/python -m bench.sse [--clients 1000] [--jobs 100] [--updates 10]
"""
from __future__ import annotations

# first: this folder holds platform.py, which would shadow the standard library's `platform`
import argparse
import asyncio
import datetime as dt
import json
import sys
import time

import psutil

from bench.harness import percentile, stack, start, wait_http


async def follow(host: str, port: int, path: str, key: str, delays: list, counts: dict, ready) -> None:
    """A bare asyncio SSE client: a few microseconds per event, so the figures measure the server,
    not a heavyweight client sharing its two cores."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
                 f"Accept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    assert b" 200 " in status, status
    ready()
    n = 0
    while line := await reader.readline():
        if not line.startswith(b"data: "):
            continue
        now = dt.datetime.now(dt.UTC)
        event = json.loads(line[6:])
        if event.get("bench"):
            delays.append((now - dt.datetime.fromisoformat(event["at"])).total_seconds())
            n += 1
        if event["state"] in ("succeeded", "failed", "cancelled"):
            break
    writer.close()
    counts[path] = counts.get(path, 0) + n


def web_rss(root_pid: int) -> int:
    proc = psutil.Process(root_pid)
    return sum(c.memory_info().rss for c in proc.children(recursive=True) if "gunicorn" in " ".join(c.cmdline()))


async def run(api: str, key: str, web_pid: int, clients: int, jobs: int, updates: int) -> dict:
    from core.errors import ErrorCode
    from jobstore import runtime, tenants
    from jobstore.intake import NewJob

    service = runtime.job_lifecycle()
    tid = tenants.ensure_tenant(runtime.db(), "bench")
    job_ids = [str(j["id"]) for j in runtime.job_intake().create_batch(tid, "scrub", "interactive", [
        NewJob(tenant_id=tid, type="scrub", priority="interactive", queue="cpu", payload={"text": "x"},
               options={}) for _ in range(jobs)], actor="bench")[1]]
    delays: list[float] = []
    counts: dict[str, int] = {}
    opened = 0

    def ready() -> None:
        nonlocal opened
        opened += 1

    rss_before = web_rss(web_pid)
    host, port = api.split("//")[1].split(":")
    tasks = [asyncio.create_task(follow(host, int(port), f"/v1/jobs/{job_ids[i % jobs]}/events", key,
                                        delays, counts, ready)) for i in range(clients)]
    t0 = time.monotonic()
    while opened < clients and time.monotonic() - t0 < 120:
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # let every stream register with the hub
    rss_open = web_rss(web_pid)

    def publish() -> None:  # what workers do, off the clients' event loop
        for step in range(updates):
            for job_id in job_ids:  # a progress write: PostgreSQL, then the event
                service.set_stage(job_id, "inference", 10 + step * 5, {"bench": True})
            time.sleep(0.05)
        for job_id in job_ids:
            service.fail(job_id, ErrorCode.INTERNAL_ERROR, "benchmark finished")

    await asyncio.to_thread(publish)
    await asyncio.wait_for(asyncio.gather(*tasks), 180)
    expected = updates * clients
    return {"clients": clients, "opened": opened, "delivered": len(delays), "expected": expected,
            "p50_ms": percentile(delays, 50) * 1000, "p99_ms": percentile(delays, 99) * 1000,
            "rss_per_stream_kb": (rss_open - rss_before) / max(clients, 1) / 1024}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--updates", type=int, default=10)
    args = parser.parse_args()
    with stack(web_workers=1) as ctx:
        web = start(ctx, "web", "--workers", "1", log="web")
        wait_http(ctx["api"] + "/health/live")
        base = asyncio.run(run(ctx["api"], ctx["key"], web.pid, 1, 1, args.updates))
        res = asyncio.run(run(ctx["api"], ctx["key"], web.pid, args.clients, args.jobs, args.updates))
    for r in (base, res):
        memory = f" | {r['rss_per_stream_kb']:.1f} KiB per open stream" if r is res else ""
        print(f"{r['clients']:>5} SSE client(s): state change → client p50 {r['p50_ms']:.1f} ms "
              f"p99 {r['p99_ms']:.1f} ms | delivered {r['delivered']}/{r['expected']} "
              f"(dropped {r['expected'] - r['delivered']}){memory}")
    print(f"p99 ratio {args.clients} clients / 1 client: {res['p99_ms'] / base['p99_ms']:.1f}x")
    return 0 if res["delivered"] == res["expected"] else 1


if __name__ == "__main__":
    sys.exit(main())
