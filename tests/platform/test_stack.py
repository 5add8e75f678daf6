"""`mindq up` end to end: embedded Redis + PostgreSQL, every role, the demo jobs, stack.json,
a clean stop on SIGTERM, and a second start on the same MINDQ_HOME that keeps the data."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import httpx
import psutil
import pytest

from jobstore.tenants import new_key
from mindq.embedded import free_port
from tests.platform.conftest import wait_until


def _start(home, key, api_port, flower_port, log):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "MINDQ_HOME",
                                                            "MINDQ_ENCRYPTION_KEYS", "PROMETHEUS_MULTIPROC_DIR")}
    env.update({"MINDQ_HOME": str(home), "MINDQ_BOOTSTRAP_KEY": key, "MINDQ_API_PORT": str(api_port),
                "MINDQ_FLOWER_PORT": str(flower_port), "MINDQ_WEB_WORKERS": "1", "MODEL_MAX_BATCH": "4",
                "PYTHONUNBUFFERED": "1"})
    return subprocess.Popen([sys.executable, "-m", "mindq.cli", "up"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc) -> list[int]:
    children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(90) == 0
    return children


@pytest.mark.timeout(900)  # two whole-stack starts, each training the default forecasters on first use
def test_mindq_up_runs_the_demo_and_stops_cleanly(tmp_path):
    home, key = tmp_path / "home", new_key()
    api_port, flower_port = free_port(), free_port()
    log_path = tmp_path / "up.log"
    with open(log_path, "wb") as log:
        proc = _start(home, key, api_port, flower_port, log)
        try:
            text = lambda: log_path.read_text(errors="replace")
            wait_until(lambda: "running; Ctrl-C stops every process" in text() or proc.poll() is not None,
                       300, 1.0, what="the stack and its demo")
            assert proc.poll() is None, text()[-4000:]
            out = text()
            assert re.search(r"demo: scrub job succeeded", out), out[-3000:]
            # the shipped demo model answers the type it was trained for, and says what it is
            assert re.search(r'demo: imhi\.dr job succeeded: \{"label": "(yes|no)"', out), out[-3000:]
            assert "is a DEMO model" in out and "not for clinical use" in out
            stack = json.loads((home / "stack.json").read_text())
            assert set(stack) >= {"api", "flower", "redis_url", "database_url"}
            assert httpx.get(stack["api"] + "/health/ready", timeout=5).status_code == 200
            flower = httpx.get(stack["flower"] + "/api/workers", timeout=10)
            assert flower.status_code == 401  # behind auth
            flower = httpx.get(stack["flower"] + "/api/workers", auth=("mindq", key), timeout=10)
            assert flower.status_code == 200
            auth = {"Authorization": f"Bearer {key}"}
            jobs = httpx.get(stack["api"] + "/v1/jobs", headers=auth, timeout=5).json()["jobs"]
            assert len(jobs) == 2
        finally:
            children = _stop(proc) if proc.poll() is None else []
    assert children and not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
                                for p in children)
    assert not (home / "stack.json").exists()

    # second start on the same home: the same data is there
    with open(tmp_path / "up2.log", "wb") as log:
        proc = _start(home, key, api_port, flower_port, log)
        try:
            wait_until(lambda: (home / "stack.json").exists() or proc.poll() is not None, 300, 1.0, what="restart")
            assert proc.poll() is None
            stack = json.loads((home / "stack.json").read_text())
            ids = {j["id"] for j in jobs}
            again = httpx.get(stack["api"] + "/v1/jobs", headers=auth, timeout=5).json()["jobs"]
            assert ids <= {j["id"] for j in again}
            one = httpx.get(stack["api"] + f"/v1/jobs/{jobs[0]['id']}", headers=auth, timeout=5).json()
            assert one["state"] == "succeeded" and one["result"]
        finally:
            if proc.poll() is None:
                _stop(proc)
