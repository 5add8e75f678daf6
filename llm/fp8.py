"""FP8 weights for LLaMA linears with torch's own ``_scaled_mm`` (no extra kernels to download).

transformers' ``FineGrainedFP8Config`` fetches its matmul kernel from the hub at first use, which
an offline GPU machine cannot do; ``torch._scaled_mm`` ships with torch and runs FP8 tensor-core
GEMMs on compute capability 8.9+ (Ada, Hopper). Weights are stored as ``float8_e4m3fn`` with one
fp32 scale per output row; activations are quantised per token on the fly (dynamic, row-wise).

A LoRA adapter cannot run on top of FP8 weights here, so the loader merges it into the bf16
weights first and quantises the merged weights ("merge, then quantise").
"""
from __future__ import annotations

import torch
from torch import nn

FP8 = torch.float8_e4m3fn
FP8_MAX = torch.finfo(FP8).max  # 448


def _quantize_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row-wise symmetric FP8 quantisation: returns (values, fp32 scale per row [rows, 1])."""
    amax = x.abs().amax(dim=-1, keepdim=True).float().clamp(min=1e-12)
    scale = amax / FP8_MAX
    return (x.float() / scale).to(FP8), scale


class Fp8Linear(nn.Module):
    # buffers registered in __init__ (declared so they type as tensors, not Tensor | Module)
    weight: torch.Tensor
    weight_scale: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, weight: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None,
                 out_dtype: torch.dtype) -> None:
        super().__init__()
        self.in_features, self.out_features = weight.shape[1], weight.shape[0]
        self.register_buffer("weight", weight)  # [out, in] float8_e4m3fn
        self.register_buffer("weight_scale", scale.reshape(1, -1).contiguous())  # [1, out] fp32
        self.register_buffer("bias", bias)
        self.out_dtype = out_dtype

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> Fp8Linear:
        with torch.no_grad():
            weight, scale = _quantize_rows(linear.weight)
        bias = linear.bias.detach().to(linear.weight.dtype) if linear.bias is not None else None
        return cls(weight, scale, bias, linear.weight.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        xq, xscale = _quantize_rows(x.reshape(-1, self.in_features))
        # mat2 must be column-major: the transpose of the row-major [out, in] weight is.
        out = torch._scaled_mm(xq, self.weight.t(), scale_a=xscale, scale_b=self.weight_scale,
                               bias=self.bias, out_dtype=self.out_dtype)
        return out.reshape(*shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, fp8=e4m3 rowwise"


def quantize_linears_fp8(model: nn.Module, skip: tuple[str, ...] = ("lm_head",)) -> int:
    """Replace every ``nn.Linear`` (except ``skip``) by ``Fp8Linear`` in place, one at a time so
    peak memory stays near the bf16 model's; returns how many were replaced."""
    targets = [(name, mod) for name, mod in model.named_modules()
               if isinstance(mod, nn.Linear) and name.split(".")[-1] not in skip]
    for name, linear in targets:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, Fp8Linear.from_linear(linear))
        del linear
    if targets and torch.cuda.is_available():
        torch.cuda.empty_cache()
    return len(targets)
