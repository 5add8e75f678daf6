"""Train, save and load the forecasting and deterioration models.

``train(kind, out_dir)`` simulates a cohort, splits it by patient into train / validation /
calibration (60/20/20), fits the models, scores them on a separately simulated held-out
cohort, and writes ``out_dir/<name>/<version>/``. ``load(kind, path)`` reads a version
directory back (checking its hash) into a predictor with ``predict(request) -> dict``.
The defaults train in well under a minute each on one core.
"""
from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import lightgbm as lgb
import numpy as np
import torch
from safetensors.torch import load_file, save_file
from sklearn.metrics import roc_auc_score

from .artefacts import ArtefactError, ArtefactInfo, finalise, latest_version, read_info, write_json
from .attention import WindowAttention
from .backtest import Series, backtest_table, promotion, series_windows, split_by_patient
from .datasets import deterioration_samples, forecast_windows, split_patients
from .deterioration import (
    DeteriorationModels,
    GRURisk,
    GRURiskNet,
    LogisticBaseline,
    Platt,
    Standardiser,
    expected_calibration_error,
    fit_deterioration,
)
from .forecaster import MEMBERS, ForecastEnsemble, fit_ensemble
from .predictors import DeteriorationPredictor, ForecastPredictor
from .schemas import H_MAX
from .simulator import simulate_cohort

Kind = Literal["forecast", "deterioration"]
NAMES: dict[str, str] = {"forecast": "symptom-forecast", "deterioration": "deterioration-risk"}
# The deterioration GRU needs the larger cohort to beat its logistic baseline (README, Models).
DEFAULT_PATIENTS: dict[str, int] = {"forecast": 300, "deterioration": 1000}
SPLIT = (0.6, 0.2, 0.2)
HOLDOUT_SEED_OFFSET = 100_003  # held-out cohort never overlaps the training cohort's seed
DETERIORATION_FORMAT = 2  # model.json layout; 2: GRU with a linear skip and a sequence scale


class _TorchThreads:
    def __init__(self, n: int) -> None:
        self.n, self.saved = n, torch.get_num_threads()

    def __enter__(self) -> None:
        torch.set_num_threads(self.n)

    def __exit__(self, *exc) -> None:
        torch.set_num_threads(self.saved)


@contextlib.contextmanager
def _staging(out_dir: Path, seed: int, threads: int) -> Iterator[Path]:
    """A fresh staging folder under ``out_dir`` for a version being trained (seeded, on ``threads``
    torch threads); removed if training fails, so no half-written artefact is ever left behind.
    ``artefacts.finalise`` turns it into the version."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    torch.manual_seed(seed)
    try:
        with _TorchThreads(threads):
            yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def train(kind: Kind, out_dir: Path, *, n_patients: int | None = None, seed: int = 0,
          threads: int = 1) -> ArtefactInfo:
    """Train ``kind`` on a simulated cohort and write a new artefact version under ``out_dir``."""
    if kind not in NAMES:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {sorted(NAMES)}")
    n = n_patients or DEFAULT_PATIENTS[kind]
    cohort = simulate_cohort(n, seed)
    parts = split_patients(cohort, SPLIT, seed)
    holdout = simulate_cohort(max(n // 4, 20), seed + HOLDOUT_SEED_OFFSET)
    out_dir = Path(out_dir)
    with _staging(out_dir, seed, threads) as staging:
        if kind == "forecast":
            metrics, extra = _train_forecast(parts, holdout, seed, threads, staging)
        else:
            metrics, extra = _train_deterioration(parts, holdout, seed, staging)
    extra.update(training={"n_patients": n, "seed": seed, "split": SPLIT, "simulator": "forecasting.simulator"})
    return finalise(staging, out_dir, NAMES[kind], metrics, extra)


def _train_forecast(parts, holdout, seed, threads, staging: Path) -> tuple[dict, dict]:
    train_w, val_w, cal_w = (forecast_windows(p) for p in parts)
    model, info = fit_ensemble(train_w, val_w, cal_w, seed=seed, threads=threads)
    test = forecast_windows(holdout)
    members = model.members(test)
    point = model.served(test, members)[0]
    metrics: dict = {"n_train_windows": len(train_w), "holdout_windows": len(test)}
    for h in (1, 4):
        y = test.targets[:, h - 1]
        k = ~np.isnan(y)
        metrics[f"holdout_mae_unit_h{h}"] = float(np.abs(point[k, h - 1] - y[k]).mean())
        metrics[f"holdout_mae_unit_h{h}_best_naive"] = float(min(np.abs(members[k, h - 1, j] - y[k]).mean()
                                                                 for j in (2, 3)))
        half = np.array([model.half_width(i)[h - 1] for i in test.instrument[k]])
        metrics[f"holdout_coverage_h{h}"] = float((np.abs(point[k, h - 1] - y[k]) <= half).mean())
    _save_forecast(model, staging)
    return metrics, {"fit": info}


def _save_forecast(model: ForecastEnsemble, staging: Path) -> None:
    save_file({k: v.contiguous() for k, v in model.attention.state_dict().items()}, staging / "attention.safetensors")
    (staging / "lightgbm.txt").write_text(model.booster.model_to_string())
    write_json(staging / "model.json", {
        "kind": "forecast", "members": list(MEMBERS), "weights": model.weights.tolist(),
        "conformal_half_width_unit": model.conformal, "attention_config": model.attention.config,
        "prior_share": model.prior_share.tolist(),
    })


MIN_TRAIN_PATIENTS = 20
DATA_SPLIT = (0.6, 0.2, 0.2)  # fit / validation (early stopping, weights, gating) / backtest + calibration


def train_from_series(series: list[Series], out_dir: Path, *, seed: int = 0, threads: int = 1,
                      active: ForecastPredictor | None = None, source: str = "") -> tuple[ArtefactInfo, dict]:
    """Fit a forecaster on a deployment's series and backtest it on patients it never saw.

    Patients are split 60/20/20: fit, validation, backtest. The backtest forecasts from every origin
    of the backtest patients' series; its residuals also calibrate the intervals (split-conformal per
    horizon). The version is written either way; ``decision`` says whether it beat the last value
    and ``active`` (scored on the same windows) at every horizon.
    """
    windows = series_windows(series)
    n_patients = len(np.unique(windows.group))
    if n_patients < MIN_TRAIN_PATIENTS:
        raise ValueError(f"{n_patients} patients with usable series; at least {MIN_TRAIN_PATIENTS} are needed")
    fit_w, val_w, test_w = split_by_patient(windows, DATA_SPLIT, seed)
    out_dir = Path(out_dir)
    with _staging(out_dir, seed, threads) as staging:
        model, info = fit_ensemble(fit_w, val_w, test_w, seed=seed, threads=threads, prior="validation")
        served = model.served(test_w)[0]
        incumbent = active.model.served(test_w)[0] if active is not None else None
        table = backtest_table(test_w, served, incumbent, seed)
        decision = {**promotion(table), "compared_with": active.version if active is not None else None}
        _save_forecast(model, staging)
    metrics = {"backtest": table, "promotion": decision, "n_series": len(series), "n_patients": n_patients,
               "n_windows": {"fit": len(fit_w), "validation": len(val_w), "backtest": len(test_w)}}
    extra = {"fit": info, "training": {"source": source, "seed": seed, "split": DATA_SPLIT,
                                       "split_by": "patient", "prior_share": model.prior_share.tolist()}}
    return finalise(staging, out_dir, NAMES["forecast"], metrics, extra), decision


def _train_deterioration(parts, holdout, seed, staging: Path) -> tuple[dict, dict]:
    train_s, val_s, cal_s = (deterioration_samples(p) for p in parts)
    models, info = fit_deterioration(train_s, val_s, cal_s, seed=seed)
    test = deterioration_samples(holdout)
    proba = models.proba(test)
    metrics: dict = {"n_train": len(train_s), "holdout_n": len(test), "holdout_positive_rate": float(test.label.mean()),
                     "served": models.served}
    for name, p in proba.items():
        metrics[f"holdout_auroc_{name}"] = float(roc_auc_score(test.label, p))
        metrics[f"holdout_ece_{name}"] = expected_calibration_error(p, test.label)
    _save_deterioration(models, staging)
    return metrics, {"fit": info}


def _save_deterioration(models: DeteriorationModels, staging: Path) -> None:
    save_file({k: v.contiguous() for k, v in models.gru.net.state_dict().items()}, staging / "gru.safetensors")
    lr = models.logistic
    write_json(staging / "model.json", {
        "kind": "deterioration", "format": DETERIORATION_FORMAT, "served": models.served,
        "gru_config": models.gru.net.config,
        "gru_scaler": {"mean": models.gru.scaler.mean.tolist(), "scale": models.gru.scaler.scale.tolist()},
        "gru_sequence_scale": models.gru.seq_scale.tolist(),
        "gru_platt": [models.gru.platt.a, models.gru.platt.b],
        "logistic": {"mean": lr.scaler.mean.tolist(), "scale": lr.scaler.scale.tolist(), "coef": lr.coef.tolist(),
                     "intercept": lr.intercept, "platt": [lr.platt.a, lr.platt.b]},
    })


def train_deterioration_from_series(series: list, out_dir: Path, *, seed: int = 0, threads: int = 1,
                                    active: DeteriorationPredictor | None = None, source: str = ""
                                    ) -> tuple[ArtefactInfo, dict]:
    """Fit the deterioration models on a deployment's series (``deterioration_backtest.parse_deterioration``),
    patients split 60/20/20 (fit / validation / calibration + backtest). The version is written either way;
    ``decision`` says whether its backtest AUROC beat chance, its logistic baseline and ``active``."""
    from .deterioration_backtest import deterioration_promotion, samples_from, scores, split_samples

    samples = samples_from(series)
    n_patients = len(np.unique(samples.group))
    if n_patients < MIN_TRAIN_PATIENTS:
        raise ValueError(f"{n_patients} patients with usable series; at least {MIN_TRAIN_PATIENTS} are needed")
    fit_s, val_s, test_s = split_samples(samples, DATA_SPLIT, seed)
    for name, part in (("validation", val_s), ("backtest", test_s)):
        if len(np.unique(part.label)) < 2:
            raise ValueError(f"the {name} patients have only one outcome class: more series are needed")
    out_dir = Path(out_dir)
    with _staging(out_dir, seed, threads) as staging:
        # the backtest patients also calibrate (Platt): scored on them, calibration is optimistic, AUROC is not
        models, info = fit_deterioration(fit_s, val_s, test_s, seed=seed)
        proba = models.proba(test_s)
        table: dict = {"n_samples": len(test_s), "n_patients": len(np.unique(test_s.group)),
                       "positive_rate": float(test_s.label.mean()), "served": models.served,
                       "candidate": scores(test_s.label, proba[models.served]),
                       "logistic": scores(test_s.label, proba["logistic"])}
        if active is not None:
            table["active"] = scores(test_s.label, active.models.proba(test_s)[active.models.served])
        decision = {**deterioration_promotion(table), "compared_with": active.version if active is not None else None}
        _save_deterioration(models, staging)
    metrics = {"backtest": [table], "promotion": decision, "n_series": len(series), "n_patients": n_patients,
               "n_samples": {"fit": len(fit_s), "validation": len(val_s), "backtest": len(test_s)}}
    extra = {"fit": info, "training": {"source": source, "seed": seed, "split": DATA_SPLIT, "split_by": "patient"}}
    return finalise(staging, out_dir, NAMES["deterioration"], metrics, extra), decision


def load(kind: Kind, path: Path) -> ForecastPredictor | DeteriorationPredictor:
    """Load the artefact version directory ``path`` (hash-checked) as a predictor."""
    path = Path(path)
    info, _ = read_info(path)
    spec = json.loads((path / "model.json").read_text())
    if spec["kind"] != kind:
        raise ArtefactError(f"{path} holds a {spec['kind']!r} model, not {kind!r}")
    if kind == "forecast":
        attention = WindowAttention(**spec["attention_config"])
        attention.load_state_dict(load_file(path / "attention.safetensors"))
        attention.eval()
        booster = lgb.Booster(model_str=(path / "lightgbm.txt").read_text())
        # artefacts from before the per-series fallback get it too (prior 0): it keeps them near the last value
        model = ForecastEnsemble(attention, booster, np.array(spec["weights"]), spec["conformal_half_width_unit"],
                                 np.array(spec.get("prior_share", [0.0] * H_MAX), float))
        return ForecastPredictor(model, info.name, info.version)
    if spec.get("format") != DETERIORATION_FORMAT:
        raise ArtefactError(f"{path} holds a deterioration model of an older format (before the GRU's linear skip); "
                            "train a new version")
    net = GRURiskNet(**spec["gru_config"])
    net.load_state_dict(load_file(path / "gru.safetensors"))
    net.eval()
    g, lr = spec["gru_scaler"], spec["logistic"]
    gru = GRURisk(net, Standardiser(np.array(g["mean"]), np.array(g["scale"])), np.array(spec["gru_sequence_scale"]),
                  Platt(*spec["gru_platt"]))
    logistic = LogisticBaseline(Standardiser(np.array(lr["mean"]), np.array(lr["scale"])), np.array(lr["coef"]),
                                float(lr["intercept"]), Platt(*lr["platt"]))
    return DeteriorationPredictor(DeteriorationModels(gru, logistic, spec["served"]), info.name, info.version)


def load_latest(kind: Kind, out_dir: Path) -> ForecastPredictor | DeteriorationPredictor | None:
    """The newest version of ``kind`` under ``out_dir``, or None when there is none."""
    path = latest_version(Path(out_dir), NAMES[kind])
    return None if path is None else load(kind, path)


def main(argv: list[str] | None = None) -> None:
    """``python -m forecasting.training forecast|deterioration --out-dir DIR``: train, print ArtefactInfo JSON."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m forecasting.training", description=main.__doc__)
    ap.add_argument("kind", choices=sorted(NAMES))
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--n-patients", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    info = train(args.kind, args.out_dir, n_patients=args.n_patients, seed=args.seed, threads=args.threads)
    print(json.dumps(info.to_dict(), indent=1))


if __name__ == "__main__":
    main()
