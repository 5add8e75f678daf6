"""Forecasting models for the cpu worker: trained and registered once, loaded at process start.

The cpu worker's parent makes sure an active version of each model is registered (training a
small default in a subprocess when there is none, so that no torch thread pool exists in the
parent before it forks); each pool process then loads the active versions when it starts. A
missing or corrupt artefact stops the worker at start with one clear line, never per job.

Later, a pool process asks the registry for the active version at most every ``REFRESH_S``
seconds (one indexed SELECT, made while it takes a job) and loads a newly active version in place,
so `mindq model train forecast --from FILE` reaches running workers within a minute without a
restart. A version that fails to load is logged and the one already loaded keeps serving.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import Settings

if TYPE_CHECKING:  # importing forecasting.training loads torch: not in a parent that forks
    from forecasting.training import Kind

log = logging.getLogger("mindq.forecast_models")

KINDS: tuple[Kind, ...] = ("forecast", "deterioration")
REFRESH_S = 20.0  # how stale a pool process's view of the active version may be
_predictors: dict[str, Any] = {}
_checked: dict[str, float] = {}  # kind -> monotonic time of the last registry check


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
             sha256=info.sha256, created_at=info.created_at, decision="promoted")
    return info.to_dict()


def train_from_file(kind: Kind, source: Path, settings: Settings) -> dict:
    """Train ``kind`` on a JSONL file of the deployment's series and register it, active only if its
    backtest wins: forecast, lower MAE than the last value and the active version at every horizon;
    deterioration, higher AUROC than chance, its logistic baseline and the active version."""
    with open(source, encoding="utf-8") as fh:
        return train_from_lines(kind, [line for line in fh if line.strip()], str(source), settings)


SYMPTOM_JOB_TYPES = ("forecast", "deterioration")  # the job types whose input is a patient's series


def train_from_database(kind: Kind, settings: Settings, tenant: str | None = None) -> dict:
    """Train ``kind`` as ``train_from_file`` does, on the series that forecast and deterioration
    jobs have brought in (``tenant``'s, or every tenant's): one history per patient and
    instrument, merged from the patient's requests. Inputs the retention purge erased are gone."""
    from forecasting.history import patient_histories
    from jobstore import runtime, tenants

    tenant_id = None
    if tenant is not None:
        tenant_id = tenants.find_tenant(runtime.db(), tenant)
        if tenant_id is None:
            raise ValueError(f"no tenant named {tenant!r}")
    lines, unreadable = patient_histories(runtime.job_reads().symptom_payloads(SYMPTOM_JOB_TYPES, tenant_id))
    if not lines:
        raise ValueError("the database holds no succeeded forecast or deterioration job with its input")
    info = train_from_lines(kind, lines, f"database:{tenant or 'every tenant'}", settings)
    return {**info, "patients": len({line["patient"] for line in lines}), "unreadable_inputs": unreadable}


def train_from_lines(kind: Kind, lines: list[Any], source: str, settings: Settings) -> dict:
    """Train and register ``kind`` from series lines (JSON text or dicts); see train_from_file."""
    from forecasting.backtest import parse_series
    from forecasting.deterioration_backtest import parse_deterioration
    from forecasting.predictors import DeteriorationPredictor, ForecastPredictor
    from forecasting.training import load, train_deterioration_from_series, train_from_series
    from jobstore import runtime
    from jobstore.model_registry import active, register

    if kind == "forecast":
        series, skipped = parse_series(lines)
    else:
        series, skipped = parse_deterioration(lines)  # type: ignore[assignment]
    row = active(runtime.db(), model_name(kind))
    incumbent = None
    if row is not None:
        try:
            incumbent = load(kind, Path(row["artefact_path"]))
        except Exception as exc:  # an unusable active artefact cannot be the bar to clear
            log.warning("active %s model %s cannot be loaded (%s); comparing with the last value only",
                        kind, row["version"], type(exc).__name__)
    if kind == "forecast":
        info, decision = train_from_series(series, artefact_root(settings), source=source, threads=2,
                                           active=incumbent if isinstance(incumbent, ForecastPredictor) else None)
    else:
        info, decision = train_deterioration_from_series(
            series, artefact_root(settings), source=source, threads=2,
            active=incumbent if isinstance(incumbent, DeteriorationPredictor) else None)
    register(runtime.db(), name=info.name, version=info.version, metrics=info.metrics, path=str(info.path),
             sha256=info.sha256, created_at=info.created_at, decision=decision["decision"],
             backtest=info.metrics["backtest"])
    return {"name": info.name, "version": info.version,
            "state": "active" if decision["decision"] == "promoted" else "rejected",
            "reasons": decision["reasons"], "compared_with": decision["compared_with"],
            "skipped_lines": len(skipped), "skipped": skipped[:10], "backtest": info.metrics["backtest"],
            "path": str(info.path)}


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
        _checked[kind] = time.monotonic()
        log.info("forecasting model loaded", extra={"model": row["name"], "version": row["version"]})


def refresh(kind: str) -> None:
    """Load the registry's active version of ``kind`` if it is not the one this process serves."""
    from forecasting.training import load
    from jobstore import runtime
    from jobstore.model_registry import active_version

    _checked[kind] = time.monotonic()
    try:
        row = active_version(runtime.db(), model_name(kind))
    except Exception as exc:  # the registry is unreachable: keep serving what is loaded
        log.warning("model registry check failed", extra={"error_type": type(exc).__name__})
        return
    current = _predictors.get(kind)
    if row is None or (current is not None and current.version == row[0]):
        return
    try:
        _predictors[kind] = load(kind, Path(row[1]))  # type: ignore[arg-type]
    except Exception as exc:
        log.error("newly active model cannot be loaded; keeping the current one",
                  extra={"model": model_name(kind), "version": row[0], "error_type": type(exc).__name__})
        return
    log.info("newly active forecasting model loaded", extra={"model": model_name(kind), "version": row[0]})


def predictor(kind: str):
    if time.monotonic() - _checked.get(kind, float("-inf")) >= REFRESH_S:
        refresh(kind)
    if kind not in _predictors:
        raise ForecastModelError(f"no {kind} model loaded in this process")
    return _predictors[kind]
