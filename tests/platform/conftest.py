"""Real processes for the platform tests: Celery workers, gunicorn, all against the session's
real Redis and PostgreSQL. Their output goes to log files that the PHI canary test reads."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.procs import die_with_parent
from jobstore import tenants
from mindq.cli import gunicorn_cmd
from mindq.embedded import free_port


class Proc:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log_dir: Path):
        self.name, self.cmd, self.env = name, cmd, env
        self.log_path = log_dir / f"{name}.log"
        self._spawn()

    def _spawn(self) -> None:
        if getattr(self, "_log", None) is not None and not self._log.closed:
            self._log.close()  # a respawn after a kill: the dead process's log handle
        self._log = open(self.log_path, "ab")  # closed in stop() or by the next spawn
        # die_with_parent: a pytest run that dies (or a fixture that fails before its teardown)
        # leaves no worker behind
        self.popen = subprocess.Popen(self.cmd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True,
                                      preexec_fn=die_with_parent())

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        if not self._log.closed:
            self._log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until(predicate, timeout: float = 60, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def worker_alive(hostname_prefix: str) -> bool:
    from jobstore import runtime
    from jobstore.workers import live_workers

    return any(w["hostname"].startswith(hostname_prefix) for w in live_workers(runtime.redis_client()))


@pytest.fixture(scope="session")
def log_dir(platform_env) -> Path:
    path = Path(platform_env["MINDQ_HOME"]) / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def proc_env(platform_env) -> dict[str, str]:
    return {**os.environ, **platform_env, "MINDQ_LEASE_SECONDS": "6", "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="session")
def tiny_model(platform_env) -> dict[str, str]:
    from mindq.stack import ensure_tiny_model

    models = Path(platform_env["MINDQ_HOME"]) / "models"
    ensure_tiny_model(models)
    return {"base": str(models / "tiny" / "base"), "adapter": str(models / "tiny" / "adapter")}


def start_cpu_worker(proc_env, log_dir, name: str = "worker-cpu") -> Proc:
    from core.config import load_settings
    from worker.launch import celery_worker_cmd

    # the production command line (`mindq worker cpu`), without its restarting supervisor
    cmd = celery_worker_cmd(name, ["cpu"], "prefork", 2, load_settings(proc_env).cpu_prefetch)
    proc = Proc(name, cmd, {**proc_env, "MINDQ_WORKER_KIND": "cpu"}, log_dir)
    # the first start trains the default forecasting models: minutes on a busy two-core machine
    wait_until(lambda: worker_alive(name), 180, what=f"{name} heartbeat")
    return proc


LLM_WORKER = "llm-cpu"  # the hostname prefix `mindq worker gpu` gives its worker without a GPU


def start_llm_worker(proc_env, log_dir, extra_env: dict | None = None, wait: bool = True) -> Proc:
    """The production launcher (`mindq worker gpu`): a supervisor and its Celery worker process."""
    cmd = [sys.executable, "-m", "mindq.cli", "worker", "gpu", "--gpus", "none"]
    env = {**proc_env, "MODEL_MAX_BATCH": "8", **(extra_env or {})}
    proc = Proc("worker-llm", cmd, env, log_dir)
    if wait:
        wait_until(lambda: worker_alive(LLM_WORKER) or proc.popen.poll() is not None, 120,
                   what="llm worker heartbeat")
        assert proc.popen.poll() is None, proc.log_text()[-3000:]
    return proc


@pytest.fixture(scope="session")
def trained_models(platform_env) -> None:
    """The default forecasting models, trained before any cpu worker starts: a worker that finds
    none trains them itself, which can outlast its heartbeat deadline on a busy machine."""
    from core import config
    from tasks.forecast_models import ensure_registered

    ensure_registered(config.settings())


@pytest.fixture(scope="session")
def cpu_worker(proc_env, log_dir, trained_models):
    proc = start_cpu_worker(proc_env, log_dir)
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def llm_worker(proc_env, log_dir, tiny_model):
    proc = start_llm_worker(proc_env, log_dir)
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def web_server(proc_env, log_dir):
    port = free_port()
    cmd = gunicorn_cmd(f"127.0.0.1:{port}", workers=1, connections=2000, graceful_s=5)  # the production line
    proc = Proc("web", cmd, proc_env, log_dir)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(url + "/health/live", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, 60, what="gunicorn")
    yield url
    proc.stop()


@pytest.fixture(scope="session")
def keys(platform_env) -> dict[str, str]:
    from jobstore import runtime

    engine = runtime.db()
    out = {}
    for name in ("clinic-a", "clinic-b"):
        out[name] = tenants.add_key(engine, tenants.ensure_tenant(engine, name))
    tid = tenants.ensure_tenant(engine, "clinic-a")
    out["read-only"] = tenants.add_key(engine, tid, scopes=("jobs:read",))
    return out


@pytest.fixture(scope="session")
def app(platform_env):
    from api.app import create_app

    return create_app()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def api(client, keys):
    """Calls the API as clinic-a; returns (status, json, headers)."""

    def call(method: str, path: str, body=None, key: str | None = None, headers: dict | None = None, raw=None):
        h = {"Authorization": f"Bearer {key or keys['clinic-a']}", **(headers or {})}
        if raw is not None:
            resp = client.open(path, method=method, data=raw, headers=h)
        elif body is not None:
            resp = client.open(path, method=method, json=body, headers=h)
        else:
            resp = client.open(path, method=method, headers=h)
        data = resp.get_json(silent=True)
        return resp.status_code, data, resp.headers

    return call


def set_consuming(queue: str, hostname: str, on: bool) -> None:
    """Have the worker ``hostname`` stop (or resume) consuming ``queue``: what it holds it still
    runs, nothing new reaches it. Retried: the first broadcast after a Redis restart may hit a
    dead pooled connection."""
    from tasks.app import app as celery_app

    call = celery_app.control.add_consumer if on else celery_app.control.cancel_consumer

    def sent() -> bool:
        try:
            return bool(call(queue, destination=[hostname], reply=True, timeout=5))
        except Exception:
            return False

    wait_until(sent, 30, 0.5, what=f"worker to {'resume' if on else 'pause'} consuming {queue}")


@contextlib.contextmanager
def paused(queue: str, hostname: str):
    """Jobs sent to ``queue`` wait there until the block ends: a job that is deterministically
    still queued, whatever the speed of the model or the machine."""
    set_consuming(queue, hostname, on=False)
    try:
        yield
    finally:
        set_consuming(queue, hostname, on=True)


def llm_hostname() -> str:
    return f"{LLM_WORKER}@{socket.gethostname()}"


def wait_job(api, job_id: str, states=("succeeded", "failed", "cancelled"), timeout: float = 120) -> dict:
    def done():
        status, body, _ = api("GET", f"/v1/jobs/{job_id}")
        assert status == 200, body
        return body if body["state"] in states else None

    return wait_until(done, timeout, 0.1, what=f"job {job_id} to reach {states}")


def read_sse(url: str, key: str, last_event_id: str | None = None, timeout: float = 60) -> list[dict]:
    """Every event of a stream until the server closes it: [{"id", "event", "data"}, ...]."""
    headers = {"Authorization": f"Bearer {key}"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    out, cur = [], {}
    with httpx.stream("GET", url, headers=headers, timeout=timeout) as resp:
        assert resp.status_code == 200, resp.read()
        assert resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if line == "":
                if "data" in cur:
                    out.append(cur)
                cur = {}
            elif line.startswith(":"):
                cur.setdefault("comments", []).append(line)
                out.append({"comment": line})
            elif line.startswith("id: "):
                cur["id"] = line[4:]
            elif line.startswith("event: "):
                cur["event"] = line[7:]
            elif line.startswith("data: "):
                cur["data"] = json.loads(line[6:])
    return out
