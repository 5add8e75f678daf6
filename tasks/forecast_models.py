"""Forecasting models for the cpu worker: trained and registered once, loaded at process start.

The cpu worker's parent makes sure an active version of each model is registered (training a
small default in a subprocess when there is none, so that no torch thread pool exists in the
parent before it forks); each pool process then loads the active versions when it starts. A
missing or corrupt artefact stops the worker at start with one clear line, never per job.
"""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import Settings

if TYPE_CHECKING:  # importing forecasting.training loads torch: not in a parent that forks
    from forecasting.training import Kind

log = logging.getLogger("mindq.forecast_models")

KINDS: tuple[Kind, ...] = ("forecast", "deterioration")
_predictors: dict[str, Any] = {}


class ForecastModelError(RuntimeError):
    pass


def artefact_root(settings: Settings) -> Path:
    return settings.artefacts_dir or settings.home / "artefacts"


def model_name(kind: str) -> str:
    from forecasting.training import NAMES

    return NAMES[kind]


def train_and_register(kind: Kind, settings: Settings) -> dict:
    """Train ``kind`` on simulated patients, write the artefact and make it the active version."""
    from forecasting.training import train
    from jobstore import runtime
    from jobstore.model_registry import register

    info = train(kind, artefact_root(settings), n_patients=settings.train_patients)
    register(runtime.db(), name=info.name, version=info.version, metrics=info.metrics, path=str(info.path),
             sha256=info.sha256, created_at=info.created_at)
    return info.to_dict()


def ensure_registered(settings: Settings) -> None:
    """Parent process: train a default model for each kind that has no active version."""
    from jobstore import runtime
    from jobstore.model_registry import active

    for kind in KINDS:
        if active(runtime.db(), model_name(kind)) is not None:
            continue
        log.warning("no active %s model: training a small default", kind)
        done = subprocess.run([sys.executable, "-m", "mindq.cli", "model", "train", kind],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise ForecastModelError(f"training the default {kind} model failed: {done.stderr.strip()[-500:]}")


def load_active(settings: Settings) -> None:
    """Pool process: load every active version (hash-checked)."""
    from forecasting.training import load
    from jobstore import runtime
    from jobstore.model_registry import active

    for kind in KINDS:
        row = active(runtime.db(), model_name(kind))
        if row is None:
            raise ForecastModelError(f"no active {kind} model in the registry (run `mindq model train {kind}`)")
        try:
            _predictors[kind] = load(kind, Path(row["artefact_path"]))
        except Exception as exc:  # a missing file, a hash mismatch: the artefact is unusable
            raise ForecastModelError(f"{kind} model {row['version']} at {row['artefact_path']} cannot be "
                                     f"loaded: {type(exc).__name__}: {exc}") from None
        log.info("forecasting model loaded", extra={"model": row["name"], "version": row["version"]})


def predictor(kind: str):
    if kind not in _predictors:
        raise ForecastModelError(f"no {kind} model loaded in this process")
    return _predictors[kind]
