"""Per-worker metric families built from heartbeats (no services needed: the input is the
registry's JSON as workers write it)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from api.worker_metrics import worker_families

CPU_LLM = {"hostname": "llm-cpu@h", "kind": "gpu", "device": "cpu",
           "engine": {"prompt_tokens": 120, "generated_tokens": 30, "waiting": 2, "running": 1}}
ON_GPU = {"hostname": "gpu0@h", "kind": "gpu", "device": "cuda:0", "memory_used": 7_000_000_000,
          "memory_total": 80_000_000_000, "memory_allocated": 6_500_000_000,
          "engine": {"prompt_tokens": 5, "generated_tokens": 9, "waiting": 0, "running": 0}}


def exposition(workers) -> str:
    registry = CollectorRegistry()

    class Collector:
        def collect(self):
            yield from worker_families(workers)

    registry.register(Collector())
    return generate_latest(registry).decode()


def test_tokens_and_engine_requests_per_worker():
    text = exposition([CPU_LLM, {"hostname": "worker-cpu@h", "kind": "cpu"}])
    assert 'mindq_worker_tokens_total{kind="generated",worker="llm-cpu@h"} 30.0' in text
    assert 'mindq_worker_tokens_total{kind="prompt",worker="llm-cpu@h"} 120.0' in text
    assert 'mindq_worker_engine_requests{state="waiting",worker="llm-cpu@h"} 2.0' in text
    assert "worker-cpu@h" not in text  # no engine, no series


def test_gpu_memory_only_for_workers_on_a_gpu():
    text = exposition([CPU_LLM, ON_GPU])
    gpu_lines = [line for line in text.splitlines() if line.startswith("mindq_worker_gpu_memory_bytes{")]
    assert len(gpu_lines) == 3 and all('worker="gpu0@h"' in line and 'device="cuda:0"' in line for line in gpu_lines)
    assert any('kind="used"' in line and line.endswith(" 7e+09") for line in gpu_lines), gpu_lines
