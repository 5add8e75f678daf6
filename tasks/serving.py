"""The gpu worker's one engine: loaded at process start, shared by every task thread.

Task threads of the Celery ``threads`` pool call ``generate`` concurrently; the engine batches
their requests into shared forward passes. A load failure is a ModelStartError, which
worker.main turns into one log line and a non-zero exit, never a per-job failure.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from core.config import Settings

log = logging.getLogger("mindq.serving")


class ModelStartError(RuntimeError):
    pass


_lock = threading.Lock()
_engine = None
_loaded = None


def start_engine(settings: Settings) -> None:
    global _engine, _loaded
    from llm.engine import Engine
    from llm.loader import ModelLoadError, load_model

    with _lock:
        if _engine is not None:
            return
        try:
            _loaded = load_model(settings.model)
        except ModelLoadError as exc:
            raise ModelStartError(str(exc)) from None
        _engine = Engine(_loaded, max_batch=settings.model.max_batch,
                         default_max_new_tokens=settings.model.max_new_tokens,
                         cpu_threads=settings.model.cpu_threads,
                         batch_beside_interactive=settings.model.batch_beside_interactive)
        log.info("model loaded", extra=_loaded.describe())


def engine():
    if _engine is None:
        raise ModelStartError("no model engine in this process (not a gpu worker?)")
    return _engine


def describe() -> dict[str, Any]:
    if _loaded is None:
        return {"model_id": None}
    info = dict(_loaded.describe())
    info.setdefault("model_id", getattr(_loaded, "model_id", None))
    if _engine is not None:
        info["engine"] = _engine.snapshot()  # queue depths and token counters, for health and benches
    return info


def stop_engine() -> None:
    global _engine
    with _lock:
        if _engine is not None:
            _engine.shutdown()
            _engine = None
