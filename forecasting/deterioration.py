"""Deterioration risk: a GRU over the daily history vs a logistic-regression baseline.

* ``LogisticBaseline``: standardised engineered features -> L2 logistic regression, its
  strength ``C`` picked on validation AUROC.
* ``GRURisk``: a GRU over the 42-day daily sequence (symptom level, visits, wearable
  deviations scaled to unit spread) whose last state, joined with the same engineered
  features, feeds a small head; the head's output is *added* to a linear term on the
  engineered features (a wide-and-deep / residual design). The linear term starts from the
  fitted logistic coefficients and the head's output layer from zero, so training starts
  at the baseline and the GRU has to earn every change; early stopping on validation
  AUROC counts the starting point as epoch 0, so the model kept is never worse than the
  baseline *on validation* (held-out patients can still disagree, and are reported).

Both are Platt-calibrated on calibration patients that neither model trained on. The GRU
is served when training moved it and it has the higher validation AUROC, else the
logistic; both are reported.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from torch import nn

from .deterioration_features import DEVIATION_CHANNELS, FEATURES, N_CHANNELS, DeteriorationSamples

LOGISTIC_C_GRID = (0.01, 0.1, 1.0, 10.0)


@dataclass
class Standardiser:
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Standardiser:
        return cls(x.mean(0), np.where(x.std(0) > 1e-9, x.std(0), 1.0))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale


def sequence_scale(sequence: np.ndarray) -> np.ndarray:
    """Per-channel divisor: the spread of each wearable deviation over the days it is present, else 1.

    Only a divisor, so an absent day (0) stays 0. The raw deviations differ ~10x in spread
    (hours of sleep vs log-ratios of HRV), which the GRU otherwise has to learn around.
    """
    scale = np.ones(sequence.shape[2])
    for c in DEVIATION_CHANNELS:
        present = sequence[:, :, c + 1] > 0
        if present.sum() > 1:
            scale[c] = max(float(sequence[:, :, c][present].std()), 1e-3)
    return scale


@dataclass
class Platt:
    """p = sigmoid(a * logit + b), fitted on a calibration split."""
    a: float = 1.0
    b: float = 0.0

    @classmethod
    def fit(cls, logits: np.ndarray, labels: np.ndarray) -> Platt:
        lr = LogisticRegression(C=1e6).fit(logits[:, None], labels)
        return cls(float(lr.coef_[0, 0]), float(lr.intercept_[0]))

    def __call__(self, logits: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.a * logits + self.b)))


@dataclass
class LogisticBaseline:
    scaler: Standardiser
    coef: np.ndarray
    intercept: float
    platt: Platt

    def logits(self, features: np.ndarray) -> np.ndarray:
        return self.scaler(features) @ self.coef + self.intercept

    def proba(self, features: np.ndarray) -> np.ndarray:
        return self.platt(self.logits(features))

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per-feature log-odds contribution relative to the training mean (coef x z-score)."""
        return self.scaler(features) * self.coef


def fit_logistic(train: DeteriorationSamples, val: DeteriorationSamples) -> tuple[LogisticBaseline, dict]:
    """L2 logistic regression on the standardised features, ``C`` chosen on validation AUROC."""
    scaler = Standardiser.fit(train.features)
    best: tuple[float, LogisticBaseline] | None = None
    info: dict[str, Any] = {"val_auroc_by_C": {}}
    for c in LOGISTIC_C_GRID:
        lr = LogisticRegression(C=c, max_iter=2000).fit(scaler(train.features), train.label)
        model = LogisticBaseline(scaler, lr.coef_[0].copy(), float(lr.intercept_[0]), Platt())
        auc = float(roc_auc_score(val.label, model.logits(val.features)))
        info["val_auroc_by_C"][str(c)] = auc
        if best is None or auc > best[0] + 1e-6:
            best, info["C"] = (auc, model), c
    assert best is not None  # LOGISTIC_C_GRID is not empty
    return best[1], info


class GRURiskNet(nn.Module):
    """logit = linear(features) + head([GRU(sequence) last state, features]).

    ``recurrent=False`` drops the GRU (head on the features only): the ablation that shows
    what the sequence adds beyond a non-linear head.
    """

    def __init__(self, n_features: int = len(FEATURES), hidden: int = 32, recurrent: bool = True) -> None:
        super().__init__()
        self.config = dict(n_features=n_features, hidden=hidden, recurrent=recurrent)
        self.gru = nn.GRU(N_CHANNELS, hidden, batch_first=True) if recurrent else None
        self.head = nn.Sequential(nn.Linear((hidden if recurrent else 0) + n_features, hidden), nn.ReLU(),
                                  nn.Dropout(0.1), nn.Linear(hidden, 1))
        self.linear = nn.Linear(n_features, 1)
        last = cast(nn.Linear, self.head[-1])
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, sequence: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        inputs = features
        if self.gru is not None:
            _, h = self.gru(sequence)
            inputs = torch.cat([h[-1], features], 1)
        return (self.linear(features) + self.head(inputs)).squeeze(1)


@dataclass
class GRURisk:
    net: GRURiskNet
    scaler: Standardiser  # engineered features
    seq_scale: np.ndarray  # per-channel divisor of the daily sequence
    platt: Platt

    def _tensors(self, sequence: np.ndarray, features: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return (torch.as_tensor(sequence / self.seq_scale, dtype=torch.float32),
                torch.as_tensor(self.scaler(features), dtype=torch.float32))

    @torch.no_grad()
    def logits(self, sequence: np.ndarray, features: np.ndarray) -> np.ndarray:
        self.net.eval()
        return self.net(*self._tensors(sequence, features)).numpy().astype(float)

    def proba(self, sequence: np.ndarray, features: np.ndarray) -> np.ndarray:
        return self.platt(self.logits(sequence, features))


def fit_gru(train: DeteriorationSamples, val: DeteriorationSamples, logistic: LogisticBaseline, *, seed: int,
            recurrent: bool = True, max_epochs: int = 20, patience: int = 4, batch: int = 256,
            lr: float = 2e-3, weight_decay: float = 1e-4) -> tuple[GRURisk, dict]:
    """Train from the logistic baseline's solution; keep the epoch with the best validation AUROC."""
    torch.manual_seed(seed)
    model = GRURisk(GRURiskNet(recurrent=recurrent), logistic.scaler, sequence_scale(train.sequence), Platt())
    with torch.no_grad():
        model.net.linear.weight.copy_(torch.as_tensor(logistic.coef, dtype=torch.float32)[None])
        model.net.linear.bias.fill_(logistic.intercept)
    opt = torch.optim.AdamW(model.net.parameters(), lr=lr, weight_decay=weight_decay)
    seq, feats = model._tensors(train.sequence, train.features)
    y = torch.as_tensor(train.label, dtype=torch.float32)
    loss_fn = nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(seed)
    start = best = float(roc_auc_score(val.label, model.logits(val.sequence, val.features)))
    best_state, best_epoch, stale, epochs = {k: v.clone() for k, v in model.net.state_dict().items()}, 0, 0, 0
    for epoch in range(1, max_epochs + 1):
        epochs = epoch
        model.net.train()
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), batch):
            idx = order[i:i + batch]
            loss = loss_fn(model.net(seq[idx], feats[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        auc = float(roc_auc_score(val.label, model.logits(val.sequence, val.features)))
        if auc > best + 1e-4:
            best, best_epoch, stale = auc, epoch, 0
            best_state = {k: v.clone() for k, v in model.net.state_dict().items()}
        else:
            stale += 1
            if stale >= patience:
                break
    model.net.load_state_dict(best_state)
    model.net.eval()
    return model, {"val_auroc": best, "val_auroc_at_start": start, "best_epoch": best_epoch, "epochs": epochs}


def expected_calibration_error(proba: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> float:
    """Equal-width-bin ECE: sum over bins of |mean predicted - observed rate| x bin share."""
    bins = np.minimum((proba * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(proba[m].mean() - labels[m].mean())
    return float(ece)


@dataclass
class DeteriorationModels:
    gru: GRURisk
    logistic: LogisticBaseline
    served: str  # "gru" | "logistic"

    def proba(self, s: DeteriorationSamples) -> dict[str, np.ndarray]:
        return {"gru": self.gru.proba(s.sequence, s.features), "logistic": self.logistic.proba(s.features)}


def fit_deterioration(train: DeteriorationSamples, val: DeteriorationSamples, cal: DeteriorationSamples, *,
                      seed: int, recurrent: bool = True) -> tuple[DeteriorationModels, dict]:
    """Both models on the same patients; ``recurrent=False`` fits the no-GRU ablation in the GRU's place."""
    logistic, logistic_info = fit_logistic(train, val)
    gru, gru_info = fit_gru(train, val, logistic, seed=seed, recurrent=recurrent)
    logistic.platt = Platt.fit(logistic.logits(cal.features), cal.label)
    gru.platt = Platt.fit(gru.logits(cal.sequence, cal.features), cal.label)
    val_auc = {"gru": float(roc_auc_score(val.label, gru.logits(val.sequence, val.features))),
               "logistic": float(roc_auc_score(val.label, logistic.logits(val.features)))}
    # best_epoch 0: no GRU update beat the baseline on validation, the "GRU" is the logistic itself
    served = "gru" if gru_info["best_epoch"] > 0 and val_auc["gru"] >= val_auc["logistic"] else "logistic"
    info = {"gru": gru_info, "logistic": logistic_info, "val_auroc": val_auc, "served": served}
    return DeteriorationModels(gru, logistic, served), info
