"""All configuration, read from the environment in one place.

Every setting has a default that works out of the box on a laptop: the embedded Redis and
PostgreSQL live under ``MINDQ_HOME`` and the tiny model is built there on first start.
Tests build ``Settings`` explicitly with ``load_settings(env={...})`` instead of patching
``os.environ``.
"""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ModelSettings:
    base_path: Path
    adapter_path: Path | None
    dtype: str = "auto"  # auto | bf16 | fp16 | fp32
    quant: str = "none"  # none | 8bit | 4bit | fp8
    merge: bool = False
    max_batch: int = 32
    max_new_tokens: int = 128
    max_context: int = 0  # 0: the model's own max_position_embeddings
    cpu_threads: int = 0  # CPU engine's intra-op threads; 0: follow the measured load (llm/threads.py)
    # batch requests the engine runs beside interactive ones; -1: the device's default (0 on a
    # CPU, no cap on a GPU), otherwise that many (llm/scheduler.py says why)
    batch_beside_interactive: int = -1


@dataclass(frozen=True)
class Settings:
    home: Path
    api_host: str
    api_port: int
    flower_port: int
    redis_url: str | None  # None: start the embedded redis-server
    database_url: str | None  # None: start the embedded PostgreSQL
    bootstrap_key: str | None
    encryption_keys: tuple[str, ...]  # newest first; MultiFernet decrypts with any, encrypts with the first
    max_body_bytes: int
    task_time_limit: int
    visibility_timeout: int
    reconcile_interval: float
    reconcile_grace: float
    rate_limit: str
    sse_heartbeat: float
    log_level: str
    model: ModelSettings
    gpus: str = "auto"
    max_text_chars: int = 200_000
    lease_seconds: float = 30.0
    db_pool: int = 10
    cpu_prefetch: int = 8  # messages each cpu worker process reserves (gpu workers: 1 per task thread)
    cpu_jobs_per_message: int = 8  # cpu jobs submitted together share a Celery message, up to this many
    event_linger_s: float = 0.02  # workers: how long a non-terminal event may wait to share a round trip
    redis_pool: int = 200
    web_workers: int = 2
    web_connections: int = 4000
    flower_password: str | None = None
    callback_secret: str | None = None
    artefacts_dir: Path | None = None  # None: $MINDQ_HOME/artefacts
    train_patients: int | None = None  # simulated patients for default forecasting models
    redis_port: int | None = None  # embedded redis-server port (None: a free one)
    pg_port: int | None = None  # embedded PostgreSQL port (None: a free one)
    input_retention_days: float = 30.0  # a finished job's encrypted input is erased after this; 0 keeps it
    # callbacks never go to these (cloud metadata, loopback, ...); EMRs on private networks are fine
    callback_blocked_networks: tuple[str, ...] = ()
    phi_cache_dir: Path | None = None  # where phi keeps its parsed allow-lists (None: $MINDQ_HOME/cache/phi)
    metrics_token: str | None = None  # a bearer token that may read /metrics (admin API keys may too)
    worker_kind: str = "cpu"  # a worker process: cpu | gpu (set by `mindq worker` for its children)
    # where prometheus-client's multiprocess mode keeps each process's metrics (it reads the
    # variable itself; mindq reads it here to know whether to aggregate)
    prometheus_multiproc_dir: Path | None = None
    # journals' nightly re-analysis (tasks/reanalysis.py): when (cron, in each tenant's time zone),
    # which types by default, and how the work is cut for the llm.batch queue
    nightly_cron: str = "0 2 * * *"
    nightly_types: tuple[str, ...] = ("risk", "depression", "sentiment")
    reanalysis_chunk: int = 8  # (entry, type) pairs per llm.batch message
    reanalysis_lanes: int = 0  # chunk messages in flight per run; 0: the engine's batch / chunk, per gpu worker
    trend_window: int = 3  # entries a sustained negative trend spans
    # a generation budget for journal analyses (0: each type's own); part of an analysis' identity
    reanalysis_max_new_tokens: int = 0


# loopback, link-local (cloud metadata at 169.254.169.254), "this host", multicast
DEFAULT_CALLBACK_BLOCKED = "127.0.0.0/8,::1/128,169.254.0.0/16,fe80::/10,0.0.0.0/8,::/128,224.0.0.0/4,ff00::/8"


def _networks(value: str) -> tuple[str, ...]:
    """Comma-separated CIDRs, checked here so a typo fails at start; "none" blocks nothing."""
    if value.strip().lower() == "none":
        return ()
    return tuple(str(ipaddress.ip_network(v.strip(), strict=False)) for v in value.split(",") if v.strip())


# The demo model mindq trains itself (models/mindq-demo/README.md), shipped with the code.
DEMO_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "mindq-demo"


def default_model_dir(home: Path) -> Path:
    """The shipped demo model; where it is missing (an install without it), the tiny random model
    that `mindq up` builds under MINDQ_HOME."""
    return DEMO_MODEL_DIR if (DEMO_MODEL_DIR / "base" / "config.json").exists() else home / "models" / "tiny"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    home = Path(env.get("MINDQ_HOME", "./.mindq")).resolve()
    keys = tuple(k.strip() for k in env.get("MINDQ_ENCRYPTION_KEYS", "").split(",") if k.strip())
    # default model: the demo model shipped in the repo (`mindq model train-demo`), else the tiny
    # random LLaMA + LoRA that `mindq up` builds (`mindq model build-tiny`)
    default_dir = default_model_dir(home)
    base = env.get("MODEL_BASE_PATH") or str(default_dir / "base")
    adapter = env.get("MODEL_ADAPTER_PATH")
    if adapter is None:
        adapter = str(default_dir / "adapter") if "MODEL_BASE_PATH" not in env else ""
    task_time_limit = int(env.get("MINDQ_TASK_TIME_LIMIT", "900"))
    return Settings(
        home=home,
        api_host=env.get("MINDQ_API_HOST", "127.0.0.1"),
        api_port=int(env.get("MINDQ_API_PORT", "8000")),
        flower_port=int(env.get("MINDQ_FLOWER_PORT", "5555")),
        redis_url=env.get("REDIS_URL") or None,
        database_url=env.get("DATABASE_URL") or None,
        bootstrap_key=env.get("MINDQ_BOOTSTRAP_KEY") or None,
        encryption_keys=keys,
        max_body_bytes=int(env.get("MINDQ_MAX_BODY_BYTES", str(1024 * 1024))),
        task_time_limit=task_time_limit,
        # Redis redelivers an unacked message after this long: it must exceed the longest task
        visibility_timeout=int(env.get("MINDQ_VISIBILITY_TIMEOUT", str(task_time_limit * 2))),
        reconcile_interval=float(env.get("MINDQ_RECONCILE_INTERVAL", "30")),
        reconcile_grace=float(env.get("MINDQ_RECONCILE_GRACE", "60")),
        rate_limit=env.get("MINDQ_RATE_LIMIT", "6000 per minute"),
        sse_heartbeat=float(env.get("MINDQ_SSE_HEARTBEAT", "15")),
        log_level=env.get("MINDQ_LOG_LEVEL", "INFO"),
        gpus=env.get("MINDQ_GPUS", "auto"),
        max_text_chars=int(env.get("MINDQ_MAX_TEXT_CHARS", "200000")),
        lease_seconds=float(env.get("MINDQ_LEASE_SECONDS", "30")),
        db_pool=int(env.get("MINDQ_DB_POOL", "10")),
        cpu_prefetch=int(env.get("MINDQ_CPU_PREFETCH", "8")),
        cpu_jobs_per_message=max(1, int(env.get("MINDQ_CPU_JOBS_PER_MESSAGE", "8"))),
        event_linger_s=float(env.get("MINDQ_EVENT_LINGER_MS", "20")) / 1000,
        redis_pool=int(env.get("MINDQ_REDIS_POOL", "200")),
        web_workers=int(env.get("MINDQ_WEB_WORKERS", "2")),
        web_connections=int(env.get("MINDQ_WEB_CONNECTIONS", "4000")),
        flower_password=env.get("MINDQ_FLOWER_PASSWORD") or None,
        callback_secret=env.get("MINDQ_CALLBACK_SECRET") or None,
        artefacts_dir=Path(env["MINDQ_ARTEFACTS"]) if env.get("MINDQ_ARTEFACTS") else None,
        train_patients=int(env["MINDQ_TRAIN_PATIENTS"]) if env.get("MINDQ_TRAIN_PATIENTS") else None,
        redis_port=int(env["MINDQ_REDIS_PORT"]) if env.get("MINDQ_REDIS_PORT") else None,
        pg_port=int(env["MINDQ_PG_PORT"]) if env.get("MINDQ_PG_PORT") else None,
        input_retention_days=float(env.get("MINDQ_INPUT_RETENTION_DAYS", "30")),
        callback_blocked_networks=_networks(env.get("MINDQ_CALLBACK_BLOCKED_NETWORKS", DEFAULT_CALLBACK_BLOCKED)),
        phi_cache_dir=Path(env.get("MINDQ_PHI_CACHE_DIR") or home / "cache" / "phi"),
        metrics_token=env.get("MINDQ_METRICS_TOKEN") or None,
        worker_kind=env.get("MINDQ_WORKER_KIND", "cpu"),
        nightly_cron=env.get("MINDQ_NIGHTLY_CRON", "0 2 * * *"),
        nightly_types=tuple(t.strip() for t in env.get("MINDQ_NIGHTLY_TYPES", "risk,depression,sentiment").split(",")
                            if t.strip()),
        reanalysis_chunk=max(1, int(env.get("MINDQ_REANALYSIS_CHUNK", "8"))),
        reanalysis_lanes=max(0, int(env.get("MINDQ_REANALYSIS_LANES", "0"))),
        trend_window=max(2, int(env.get("MINDQ_TREND_WINDOW", "3"))),
        reanalysis_max_new_tokens=max(0, int(env.get("MINDQ_REANALYSIS_MAX_NEW_TOKENS", "0"))),
        prometheus_multiproc_dir=(Path(env["PROMETHEUS_MULTIPROC_DIR"]) if env.get("PROMETHEUS_MULTIPROC_DIR")
                                  else None),
        model=ModelSettings(
            base_path=Path(base),
            adapter_path=Path(adapter) if adapter else None,
            dtype=env.get("MODEL_DTYPE", "auto"),
            quant=env.get("MODEL_QUANT", "none"),
            merge=_bool(env.get("MODEL_MERGE"), False),
            max_batch=int(env.get("MODEL_MAX_BATCH", "32")),
            max_new_tokens=int(env.get("MODEL_MAX_NEW_TOKENS", "128")),
            max_context=int(env.get("MODEL_MAX_CONTEXT", "0")),
            cpu_threads=int(env.get("MODEL_CPU_THREADS", "0")),
            batch_beside_interactive=int(env.get("MODEL_BATCH_BESIDE_INTERACTIVE", "-1")),
        ),
    )


_current: Settings | None = None


def settings() -> Settings:
    """This process's settings: the environment, read once. Every part reads its configuration
    here or is handed a ``Settings``; ``use`` installs explicit ones (an app factory, a test)."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


def use(explicit: Settings) -> None:
    global _current
    _current = explicit


def reset() -> None:
    """Forget the settings: the next ``settings()`` reads the environment again."""
    global _current
    _current = None
