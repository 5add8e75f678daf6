"""A tiny transformer encoder over the recent weekly window of a symptom series.

Each week is a token (value relative to the last score, a present flag, the raw value) with
a learned position; missing weeks are masked out of attention. A context token built from
the course-level features (time in treatment, baseline, last and recent-mean scores) is
read out by a linear head giving the change from the last score for every horizon.
"""
from __future__ import annotations

from typing import Any

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
        x, pad, last = self.embed(grid, context, recent)
        return self.readout(self.encoder(x, src_key_padding_mask=pad), last)

    def embed(self, grid: torch.Tensor, context: torch.Tensor, recent: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(tokens with the context token first, key padding mask, last value)."""
        present = ~torch.isnan(grid)
        values = torch.nan_to_num(grid)
        last = values[:, -1:]
        tokens = torch.stack([(values - last) * present, present.float(), values], -1)
        x = self.token(tokens) + self.pos
        ctx = self.context(torch.cat([context, last, recent[:, None]], 1))[:, None]
        x = torch.cat([ctx, x], 1)
        pad = torch.cat([torch.zeros_like(present[:, :1]), ~present], 1)
        return x, pad, last

    def readout(self, h: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        return last + self.head(h[:, 0])


def _tensors(w: ForecastWindows) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    f = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32))
    return f(w.grid), f(w.context), f(w.recent_mean)


def _layer_kernel_args(layer: nn.TransformerEncoderLayer) -> dict[str, Any] | None:
    """The arguments (all but input and mask) that ``layer.forward`` passes to its fused inference kernel,
    or None where that forward would not use the kernel (the structural checks of torch 2.13's forward)."""
    sa = layer.self_attn
    if not (sa.batch_first and sa.in_proj_bias is not None and sa._qkv_same_embed_dim and sa.num_heads % 2 == 0
            and layer.activation_relu_or_gelu and layer.norm1.eps == layer.norm2.eps):
        return None
    return dict(embed_dim=sa.embed_dim, num_heads=sa.num_heads, qkv_weight=sa.in_proj_weight,
                qkv_bias=sa.in_proj_bias, proj_weight=sa.out_proj.weight, proj_bias=sa.out_proj.bias,
                use_gelu=layer.activation_relu_or_gelu == 2, norm_first=layer.norm_first, eps=layer.norm1.eps,
                norm_weight_1=layer.norm1.weight, norm_bias_1=layer.norm1.bias, norm_weight_2=layer.norm2.weight,
                norm_bias_2=layer.norm2.bias, ffn_weight_1=layer.linear1.weight, ffn_bias_1=layer.linear1.bias,
                ffn_weight_2=layer.linear2.weight, ffn_bias_2=layer.linear2.bias)


def _kernel_args(model: WindowAttention) -> list[dict[str, Any]] | None:
    """Per encoder layer, ``_layer_kernel_args``; None where the modules would not use the fused kernel.

    Calling the kernel directly skips about 0.25 ms of per-call checks in the encoder's and its layers'
    Python forward (an eighth of a served forecast); the result is the same tensor, bit for bit
    (tests/forecasting/test_fallback.py). The arguments are cached on the model: they reference its
    parameters, which training and ``load_state_dict`` update in place (replacing them with new objects,
    e.g. ``load_state_dict(assign=True)``, needs ``model.__dict__.pop("_kernel_cache")``). The checks that
    can change between calls are repeated on each.
    """
    cached = model.__dict__.get("_kernel_cache")
    if cached is None:
        enc = model.encoder
        per_layer = [_layer_kernel_args(layer) for layer in enc.layers]
        found = [a for a in per_layer if a is not None]
        usable = not enc.use_nested_tensor and enc.norm is None and len(found) == len(per_layer)
        cached = model.__dict__["_kernel_cache"] = (found if usable else None, list(enc.modules()))
    args, modules = cached
    if (args is None or model.training or torch.is_grad_enabled() or not torch.backends.mha.get_fastpath_enabled()
            or torch.is_autocast_enabled() or any(m._forward_hooks or m._forward_pre_hooks for m in modules)):
        return None
    return args


def _infer(model: WindowAttention, grid: torch.Tensor, context: torch.Tensor, recent: torch.Tensor) -> torch.Tensor:
    """``model(grid, context, recent)`` in eval mode without grad, through the layers' fused kernel."""
    x, pad, last = model.embed(grid, context, recent)
    args = _kernel_args(model)
    if args is None:
        return model.readout(model.encoder(x, src_key_padding_mask=pad), last)
    # The encoder hands its layers an additive 0/-inf float mask; the kernel takes the boolean one as is,
    # with the same softmax bit for bit and without the cost of the float mask (~30 us a layer).
    for layer_args in args:
        x = torch._transformer_encoder_layer_fwd(x, **layer_args, mask=pad, mask_type=1)  # 1: key padding
    return model.readout(x, last)


@torch.inference_mode()
def predict_attention(model: WindowAttention, w: ForecastWindows, batch: int = 4096) -> np.ndarray:
    if model.training:  # eval() walks every submodule: not on each request of a loaded model
        model.eval()
    g, c, r = _tensors(w)
    if len(g) <= batch:  # a request: no slicing and joining
        return _infer(model, g, c, r).numpy().astype(float)
    return np.concatenate([_infer(model, g[i:i + batch], c[i:i + batch], r[i:i + batch]).numpy()
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
