"""Entry point of worker processes: ``celery -A worker.main worker -Q ...``.

Adds to the shared Celery app what only workers need: JSON logging, a heartbeat in Redis that
/health/ready reads (queues, device, model identity), and, in gpu workers, the model loaded
once at process start (a load failure exits the process with one clear log line).
"""
from __future__ import annotations

import logging
import os
import signal
import sys

from celery import signals

from core import config
from core.logs import configure_logging
from core.procs import arm_in_process
from jobstore import runtime
from tasks.app import app  # the app celery -A loads
from worker import heartbeat
from worker.consumer import Consumer

app.conf.worker_consumer = f"{Consumer.__module__}:{Consumer.__qualname__}"

log = logging.getLogger("mindq.worker")
WORKER_KIND = config.settings().worker_kind  # cpu | gpu, fixed for the process


@signals.setup_logging.connect
def _setup_logging(**_kwargs) -> None:
    configure_logging(config.settings().log_level, service=f"worker-{WORKER_KIND}")


def _fatal(what: str, exc: Exception) -> None:
    log.critical("%s: %s", what, exc)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(3)  # Celery would otherwise catch SystemExit and keep a model-less worker


@signals.worker_init.connect
def _load_models(**_kwargs) -> None:
    if WORKER_KIND != "gpu":
        from tasks import forecast_models

        try:
            forecast_models.ensure_registered(config.settings())
        except forecast_models.ForecastModelError as exc:
            _fatal("forecasting models unavailable", exc)
        runtime.reset()  # closes the parent's pools: the pool processes open their own connections
        return
    from tasks import serving

    try:
        serving.start_engine(config.settings())
    except serving.ModelStartError as exc:
        _fatal("model failed to load", exc)
    from tasks.scrubbing import scrubber

    scrubber()  # every LLM job scrubs first: load the PHI dictionaries before the first one
    _defer_events()


def _defer_events() -> None:
    runtime.job_lifecycle().defer_events(config.settings().event_linger_s)


@signals.worker_ready.connect
def _start_heartbeat(sender=None, **_kwargs) -> None:
    queues = sorted(q.name for q in sender.app.amqp.queues.consume_from.values()) if sender else []
    heartbeat.start(sender.hostname if sender else "worker", WORKER_KIND, queues)


@signals.worker_process_init.connect
def _after_fork(**_kwargs) -> None:
    arm_in_process(signal.SIGKILL)  # a pool process whose worker died (kill -9) has no one to report to
    runtime.reset(close=False)  # never share a parent's connections with a forked child
    _defer_events()
    if WORKER_KIND == "cpu":
        from tasks import forecast_models

        try:
            forecast_models.load_active(config.settings())
        except forecast_models.ForecastModelError as exc:
            _fatal("forecasting model failed to load", exc)
        from tasks.scrubbing import scrubber

        scrubber()  # load the PHI dictionaries before the first job, not during it


@signals.worker_process_shutdown.connect
def _flush_events(**_kwargs) -> None:
    runtime.job_lifecycle().flush_events()


@signals.worker_shutdown.connect
def _stop(**_kwargs) -> None:
    runtime.job_lifecycle().flush_events()  # a threads-pool worker has no process shutdown of its own
    heartbeat.stop()
    if WORKER_KIND == "gpu":
        from tasks import serving

        serving.stop_engine()
