"""Deterioration risk: a GRU over the daily history vs a logistic-regression baseline.

* ``LogisticBaseline``: standardised engineered features -> logistic regression.
* ``GRURisk``: a GRU over the 42-day daily sequence (symptom level, visits, wearable
  deviations), whose last state is joined with the same engineered features before a small
  head. It therefore sees everything the baseline sees plus the day-level wearable signal.

Both are Platt-calibrated on calibration patients that neither model trained on. The
served model is the one with the higher validation AUROC; both are reported.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from torch import nn

from .deterioration_features import FEATURES, N_CHANNELS, DeteriorationSamples


@dataclass
class Standardiser:
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> "Standardiser":
        return cls(x.mean(0), np.where(x.std(0) > 1e-9, x.std(0), 1.0))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale


@dataclass
class Platt:
    """p = sigmoid(a * logit + b), fitted on a calibration split."""
    a: float = 1.0
    b: float = 0.0

    @classmethod
    def fit(cls, logits: np.ndarray, labels: np.ndarray) -> "Platt":
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


def fit_logistic(train: DeteriorationSamples) -> LogisticBaseline:
    scaler = Standardiser.fit(train.features)
    lr = LogisticRegression(C=1.0, max_iter=2000).fit(scaler(train.features), train.label)
    return LogisticBaseline(scaler, lr.coef_[0].copy(), float(lr.intercept_[0]), Platt())


class GRURiskNet(nn.Module):
    def __init__(self, n_features: int = len(FEATURES), hidden: int = 32) -> None:
        super().__init__()
        self.config = dict(n_features=n_features, hidden=hidden)
        self.gru = nn.GRU(N_CHANNELS, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden + n_features, hidden), nn.ReLU(), nn.Dropout(0.1),
                                  nn.Linear(hidden, 1))

    def forward(self, sequence: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        _, h = self.gru(sequence)
        return self.head(torch.cat([h[-1], features], 1)).squeeze(1)


@dataclass
class GRURisk:
    net: GRURiskNet
    scaler: Standardiser
    platt: Platt

    @torch.no_grad()
    def logits(self, sequence: np.ndarray, features: np.ndarray) -> np.ndarray:
        self.net.eval()
        return self.net(torch.as_tensor(sequence, dtype=torch.float32),
                        torch.as_tensor(self.scaler(features), dtype=torch.float32)).numpy().astype(float)

    def proba(self, sequence: np.ndarray, features: np.ndarray) -> np.ndarray:
        return self.platt(self.logits(sequence, features))


def fit_gru(train: DeteriorationSamples, val: DeteriorationSamples, *, seed: int, max_epochs: int = 20,
            patience: int = 3, batch: int = 256, lr: float = 2e-3) -> tuple[GRURisk, dict]:
    torch.manual_seed(seed)
    scaler = Standardiser.fit(train.features)
    model = GRURisk(GRURiskNet(), scaler, Platt())
    opt = torch.optim.AdamW(model.net.parameters(), lr=lr, weight_decay=1e-4)
    seq = torch.as_tensor(train.sequence, dtype=torch.float32)
    feats = torch.as_tensor(scaler(train.features), dtype=torch.float32)
    y = torch.as_tensor(train.label, dtype=torch.float32)
    loss_fn = nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(seed)
    best, best_state, stale, epochs = -np.inf, None, 0, 0
    for epoch in range(max_epochs):
        epochs += 1
        model.net.train()
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), batch):
            idx = order[i:i + batch]
            loss = loss_fn(model.net(seq[idx], feats[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        auc = roc_auc_score(val.label, model.logits(val.sequence, val.features))
        if auc > best + 1e-4:
            best, stale = auc, 0
            best_state = {k: v.clone() for k, v in model.net.state_dict().items()}
        else:
            stale += 1
            if stale >= patience:
                break
    model.net.load_state_dict(best_state)
    model.net.eval()
    return model, {"val_auroc": float(best), "epochs": epochs}


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
                      seed: int) -> tuple[DeteriorationModels, dict]:
    logistic = fit_logistic(train)
    gru, gru_info = fit_gru(train, val, seed=seed)
    logistic.platt = Platt.fit(logistic.logits(cal.features), cal.label)
    gru.platt = Platt.fit(gru.logits(cal.sequence, cal.features), cal.label)
    val_auc = {"gru": float(roc_auc_score(val.label, gru.logits(val.sequence, val.features))),
               "logistic": float(roc_auc_score(val.label, logistic.logits(val.features)))}
    served = "gru" if val_auc["gru"] >= val_auc["logistic"] else "logistic"
    return DeteriorationModels(gru, logistic, served), {"gru": gru_info, "val_auroc": val_auc, "served": served}
