"""A throwaway stack for benchmarks: embedded Redis + PostgreSQL, migrations, a tenant key, and
worker / web processes started as in production (`mindq worker`, gunicorn + gevent)."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def stack(web_workers: int = 1, extra_env: dict | None = None):
    from jobstore import tenants
    from jobstore.crypto import Cipher
    from jobstore.db import make_engine
    from migrations.runner import upgrade
    from mindq.embedded import free_port, start_postgres, start_redis

    tmp = Path(tempfile.mkdtemp(prefix="mindq-bench-"))
    redis_svc = start_redis(tmp / "redis")
    pg_svc = start_postgres(tmp / "pg")
    upgrade(pg_svc.url)
    engine = make_engine(pg_svc.url, pool_size=1)
    key = tenants.add_key(engine, tenants.ensure_tenant(engine, "bench"))
    engine.dispose()
    port = free_port()
    env = {**os.environ, "MINDQ_HOME": str(tmp / "home"), "REDIS_URL": redis_svc.url,
           "DATABASE_URL": pg_svc.url, "MINDQ_ENCRYPTION_KEYS": Cipher.generate_key(),
           "MINDQ_API_PORT": str(port), "MINDQ_LOG_LEVEL": "WARNING", "MINDQ_RATE_LIMIT": "1000000 per minute",
           "MINDQ_WEB_WORKERS": str(web_workers), **(extra_env or {})}
    os.environ.update({k: env[k] for k in ("MINDQ_HOME", "REDIS_URL", "DATABASE_URL", "MINDQ_ENCRYPTION_KEYS")})
    from jobstore import runtime

    runtime.reset()
    procs: list[subprocess.Popen] = []
    ctx = {"env": env, "key": key, "api": f"http://127.0.0.1:{port}", "procs": procs, "dir": tmp,
           "redis_url": redis_svc.url, "database_url": pg_svc.url}
    try:
        yield ctx
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        redis_svc.stop()
        pg_svc.stop()


def start(ctx: dict, *args: str, log: str) -> subprocess.Popen:
    out = open(ctx["dir"] / f"{log}.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "mindq.cli", *args], env=ctx["env"], stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
    ctx["procs"].append(proc)
    return proc


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} not up")


def wait_worker(prefix: str, timeout: float = 120) -> None:
    from jobstore import runtime
    from jobstore.workers import live_workers

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(w["hostname"].startswith(prefix) for w in live_workers(runtime.redis_client())):
            return
        time.sleep(0.2)
    raise RuntimeError(f"worker {prefix} not up")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]
