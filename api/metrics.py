"""Prometheus metrics for the API, plus queue/job/worker gauges computed at scrape time."""
from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from api.worker_metrics import worker_families
from core import config, supervision

REQUESTS = Counter("mindq_http_requests_total", "HTTP requests", ["method", "endpoint", "status"])
LATENCY = Histogram("mindq_http_request_seconds", "HTTP request latency", ["method", "endpoint"],
                    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5))


class PlatformCollector:
    """Queue depths (Redis), jobs by state (PostgreSQL) and live workers, read when scraped."""

    def __init__(self, ttl_s: float = 5.0):
        self._ttl = ttl_s
        self._cache: tuple[float, list] = (0.0, [])

    def collect(self):
        now = time.monotonic()
        if now - self._cache[0] < self._ttl:
            yield from self._cache[1]
            return
        try:
            metrics = list(self._read())
        except Exception as exc:  # Redis or PostgreSQL down: the rest of /metrics still matters now
            from core import failures

            if not failures.is_transient(exc):
                raise
            yield from self._cache[1]  # the last figures read, rather than a 503 for the whole page
            return
        self._cache = (now, metrics)
        yield from metrics

    def _read(self):
        from jobstore import runtime
        from jobstore.workers import live_workers
        from tasks.routing import QUEUES

        r = runtime.redis_client()
        depth = GaugeMetricFamily("mindq_queue_depth", "Messages waiting per Celery queue", labels=["queue"])
        for q in QUEUES:
            depth.add_metric([q], r.llen(q))
        yield depth
        states = GaugeMetricFamily("mindq_jobs", "Jobs by state", labels=["state"])
        for state, n in runtime.job_reads().counts_by_state().items():
            states.add_metric([state], n)
        yield states
        workers = GaugeMetricFamily("mindq_workers", "Live workers by kind", labels=["kind"])
        counts: dict[str, int] = {}
        live = live_workers(r)
        for w in live:
            counts[w.get("kind", "?")] = counts.get(w.get("kind", "?"), 0) + 1
        for kind, n in counts.items():
            workers.add_metric([kind], n)
        yield workers
        yield from worker_families(live)  # tokens and GPU memory per worker, from the same heartbeats


class SupervisorCollector:
    """Restarts per role by the ``mindq up`` supervisor on this host (core.supervision); nothing
    when no supervisor runs here (docker compose counts its own restarts)."""

    def collect(self):
        counts = supervision.read_counts(config.settings().home)
        if not counts:
            return
        family = CounterMetricFamily("mindq_supervisor_restarts", "Children restarted by mindq up's supervisor",
                                     labels=["role"])
        for role, n in sorted(counts.items()):
            family.add_metric([role], n)
        yield family


def render() -> tuple[bytes, str]:
    registry = CollectorRegistry()
    if config.settings().prometheus_multiproc_dir:
        multiprocess.MultiProcessCollector(registry)  # every gunicorn and Celery process on this host
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    out = generate_latest(registry)
    out += generate_latest(_platform_registry())
    return out, CONTENT_TYPE_LATEST


_platform = None


def _platform_registry() -> CollectorRegistry:
    global _platform
    if _platform is None:
        _platform = CollectorRegistry()
        _platform.register(PlatformCollector())
        _platform.register(SupervisorCollector())
    return _platform
