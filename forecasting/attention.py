"""A tiny transformer encoder over the recent weekly window of a symptom series.

Each week is a token (value relative to the last score, a present flag, the raw value) with
a learned position; missing weeks are masked out of attention. A context token built from
the course-level features (time in treatment, baseline, last and recent-mean scores) is
read out by a linear head giving the change from the last score for every horizon.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .forecast_features import WINDOW_WEEKS, ForecastWindows
from .schemas import H_MAX

N_CONTEXT = 5


class WindowAttention(nn.Module):
    def __init__(self, d_model: int = 32, n_heads: int = 4, n_layers: int = 2, window: int = WINDOW_WEEKS,
                 horizons: int = H_MAX, dropout: float = 0.05) -> None:
        super().__init__()
        self.config = dict(d_model=d_model, n_heads=n_heads, n_layers=n_layers, window=window, horizons=horizons,
                           dropout=dropout)
        self.token = nn.Linear(3, d_model)
        self.pos = nn.Parameter(torch.randn(window, d_model) * 0.02)
        self.context = nn.Linear(N_CONTEXT, d_model)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, dim_feedforward=2 * d_model, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, horizons))

    def forward(self, grid: torch.Tensor, context: torch.Tensor, recent: torch.Tensor) -> torch.Tensor:
        present = ~torch.isnan(grid)
        values = torch.nan_to_num(grid)
        last = values[:, -1:]
        tokens = torch.stack([(values - last) * present, present.float(), values], -1)
        x = self.token(tokens) + self.pos
        ctx = self.context(torch.cat([context, last, recent[:, None]], 1))[:, None]
        x = torch.cat([ctx, x], 1)
        pad = torch.cat([torch.zeros_like(present[:, :1]), ~present], 1)
        h = self.encoder(x, src_key_padding_mask=pad)
        return last + self.head(h[:, 0])


def _tensors(w: ForecastWindows) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    f = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32))
    return f(w.grid), f(w.context), f(w.recent_mean)


@torch.no_grad()
def predict_attention(model: WindowAttention, w: ForecastWindows, batch: int = 4096) -> np.ndarray:
    if model.training:  # eval() walks every submodule: not on each request of a loaded model
        model.eval()
    g, c, r = _tensors(w)
    return np.concatenate([model(g[i:i + batch], c[i:i + batch], r[i:i + batch]).numpy()
                           for i in range(0, len(g), batch)]).astype(float)


def train_attention(train: ForecastWindows, val: ForecastWindows, *, seed: int, max_epochs: int = 12,
                    patience: int = 3, batch: int = 1024, lr: float = 5e-3) -> tuple[WindowAttention, dict]:
    """L1 training (the job reports medians), early-stopped on validation MAE."""
    torch.manual_seed(seed)
    model = WindowAttention()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    g, c, r = _tensors(train)
    y = torch.as_tensor(train.targets, dtype=torch.float32)
    known = ~torch.isnan(y)
    y = torch.nan_to_num(y)
    gen = torch.Generator().manual_seed(seed)
    best, best_state, stale, history = np.inf, None, 0, []
    for _ in range(max_epochs):
        model.train()
        order = torch.randperm(len(g), generator=gen)
        for i in range(0, len(g), batch):
            idx = order[i:i + batch]
            pred = model(g[idx], c[idx], r[idx])
            m = known[idx]
            loss = (pred - y[idx]).abs()[m].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        val_pred = predict_attention(model, val)
        mask = ~np.isnan(val.targets)
        mae = float(np.abs(val_pred - np.nan_to_num(val.targets))[mask].mean())
        history.append(mae)
        if mae < best - 1e-5:
            best, stale = mae, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= patience:
                break
    if best_state is None:
        raise RuntimeError("no epoch gave a finite validation MAE")
    model.load_state_dict(best_state)
    model.eval()
    return model, {"val_mae_unit": best, "epochs": len(history)}
