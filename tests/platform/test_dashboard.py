"""The Grafana dashboard queries only metrics that /metrics serves: a web process and a cpu
worker sharing a PROMETHEUS_MULTIPROC_DIR (as `mindq up` and docker compose run them), the llm
worker's heartbeats for its engine's tokens; GPU memory is checked only where a GPU is."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import httpx
import pytest

from jobstore import runtime, tenants
from mindq.cli import gunicorn_cmd
from mindq.embedded import free_port
from tests.platform.conftest import Proc, start_cpu_worker, wait_until

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "mindq-dashboard.json"
METRIC = re.compile(r"\b(mindq_[a-z_]+)")
GPU_ONLY = {"mindq_worker_gpu_memory_bytes"}


def queried_metrics() -> set[str]:
    dash = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    assert exprs
    return {m for e in exprs for m in METRIC.findall(e)}


def served(text: str) -> set[str]:
    """Names of every sample in a Prometheus exposition."""
    return {re.split(r"[{ ]", line, maxsplit=1)[0] for line in text.splitlines() if line and not line.startswith("#")}


def has_gpu() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def test_dashboard_is_well_formed():
    dash = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    assert {"mindq_queue_depth", "mindq_jobs", "mindq_workers", "mindq_worker_tokens_total",
            "mindq_http_request_seconds_bucket", "mindq_worker_job_seconds_bucket"} <= queried_metrics()


def test_every_metric_the_dashboard_queries_is_served(tmp_path, proc_env, log_dir, trained_models, llm_worker):
    prom = tmp_path / "prom"
    prom.mkdir()
    env = {**proc_env, "PROMETHEUS_MULTIPROC_DIR": str(prom)}
    port = free_port()
    web = Proc("web-prom", gunicorn_cmd(f"127.0.0.1:{port}", workers=1, connections=100, graceful_s=2), env, log_dir)
    worker = start_cpu_worker(env, log_dir, name="worker-cpu-prom")
    url = f"http://127.0.0.1:{port}"
    admin = tenants.add_key(runtime.db(), tenants.ensure_tenant(runtime.db(), "ops-dash"), scopes=tenants.ALL_SCOPES)
    auth = {"Authorization": f"Bearer {admin}"}
    try:
        wait_until(lambda: _up(url), 60, what="gunicorn")
        with httpx.Client(base_url=url, headers=auth, timeout=30) as http:
            job = http.post("/v1/jobs", json={"type": "sentiment", "text": "I feel a bit better today.",
                                              "options": {"max_new_tokens": 4}}).json()
            wait_until(lambda: http.get(f"/v1/jobs/{job['id']}").json()["state"] == "succeeded", 180,
                       0.2, what="llm job")

            def scraped() -> set[str] | None:
                # the session's other cpu worker may take a job: submit until this one has run some
                http.post("/v1/jobs", json={"type": "scrub", "text": "Call 555-201-3344."})
                names = served(http.get("/metrics").text)
                return names if "mindq_worker_jobs_total" in names and "mindq_worker_tokens_total" in names \
                    else None

            names = wait_until(scraped, 120, 0.5, what="worker metrics in /metrics")
    finally:
        worker.stop()
        web.stop()
    wanted = queried_metrics()
    if not has_gpu():
        wanted -= GPU_ONLY  # no GPU here: the gauge is absent by design, not by mistake
    missing = sorted(m for m in wanted if m not in names)
    assert not missing, f"the dashboard queries metrics /metrics does not serve: {missing}"
    if has_gpu():
        assert "mindq_worker_gpu_memory_bytes" in names


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/health/live", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.skipif(not has_gpu(), reason="no GPU on this machine: GPU memory per worker is reported only on one")
def test_gpu_memory_per_worker_is_reported(client, proc_env, log_dir, tiny_model):
    from jobstore.workers import live_workers

    gpu = Proc("worker-gpu", [sys.executable, "-m", "mindq.cli", "worker", "gpu", "--gpus", "0"], proc_env, log_dir)
    try:
        on_gpu = wait_until(lambda: [w for w in live_workers(runtime.redis_client())
                                     if str(w.get("device", "")).startswith("cuda")], 180, what="a worker on the GPU")
        admin = tenants.add_key(runtime.db(), tenants.ensure_tenant(runtime.db(), "ops-gpu"), scopes=tenants.ALL_SCOPES)
        text = client.get("/metrics", headers={"Authorization": f"Bearer {admin}"}).get_data(as_text=True)
    finally:
        gpu.stop()
    lines = [line for line in text.splitlines() if line.startswith("mindq_worker_gpu_memory_bytes{")]
    for kind in ("used", "total"):
        assert any(f'worker="{on_gpu[0]["hostname"]}"' in line and f'kind="{kind}"' in line for line in lines), lines
