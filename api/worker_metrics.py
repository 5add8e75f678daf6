"""Per-worker figures from the worker registry's heartbeats (jobstore.workers), for /metrics:
tokens the LLM engine has prompted and generated (counters: rate() of them is tokens/s), its
queue, and GPU memory when the worker runs on one. Read at scrape time like the other platform
gauges; a worker on CPU has no GPU series at all rather than zeros."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

GPU_MEMORY_FIELDS = (("used", "memory_used"), ("total", "memory_total"), ("allocated", "memory_allocated"))


def worker_families(workers: Iterable[dict[str, Any]]) -> Iterator[Metric]:
    tokens = CounterMetricFamily("mindq_worker_tokens", "Tokens through each worker's LLM engine since it started",
                                 labels=["worker", "kind"])
    waiting = GaugeMetricFamily("mindq_worker_engine_requests", "Requests in each worker's LLM engine",
                                labels=["worker", "state"])
    memory = GaugeMetricFamily("mindq_worker_gpu_memory_bytes", "GPU memory of each gpu worker's device",
                               labels=["worker", "device", "kind"])
    for w in workers:
        name = str(w.get("hostname", "?"))
        engine = w.get("engine") or {}
        for kind, field in (("prompt", "prompt_tokens"), ("generated", "generated_tokens")):
            if isinstance(engine.get(field), int):
                tokens.add_metric([name, kind], engine[field])
        for state in ("waiting", "running"):
            if isinstance(engine.get(state), int):
                waiting.add_metric([name, state], engine[state])
        device = str(w.get("device", ""))
        if device.startswith("cuda"):
            for kind, field in GPU_MEMORY_FIELDS:
                if isinstance(w.get(field), int | float):
                    memory.add_metric([name, device, kind], w[field])
    yield tokens
    yield waiting
    yield memory
