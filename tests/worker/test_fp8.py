"""FP8 weights via torch._scaled_mm: numerics checked on CPU, speed only meaningful on a GPU."""
from __future__ import annotations

import copy

import pytest
import torch

from llm.fp8 import Fp8Linear, quantize_linears_fp8


def test_fp8_linear_close_to_linear():
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 48, bias=True)
    fp8 = Fp8Linear.from_linear(linear)
    assert fp8.weight.dtype == torch.float8_e4m3fn and fp8.weight_scale.shape == (1, 48)
    x = torch.randn(2, 7, 64)
    ref, out = linear(x), fp8(x)
    assert out.shape == ref.shape and out.dtype == ref.dtype
    assert (out - ref).norm() / ref.norm() < 0.08  # e4m3 keeps ~3 significant bits per value


def test_quantize_model_keeps_head_and_predictions(loaded):
    model = copy.deepcopy(loaded.model).merge_and_unload()
    ids = loaded.tokenizer("USER: Consider this post: I feel tired. ASSISTANT:", return_tensors="pt")
    with torch.inference_mode():
        ref = model(**ids).logits[0]
    replaced = quantize_linears_fp8(model)
    assert replaced == 2 * 7  # q k v o gate up down, two layers; lm_head kept
    assert isinstance(model.lm_head, torch.nn.Linear) and not isinstance(model.lm_head, Fp8Linear)
    with torch.inference_mode():
        out = model(**ids).logits[0]
    assert (out - ref).norm() / ref.norm() < 0.1
    assert (out.argmax(-1) == ref.argmax(-1)).float().mean() > 0.7


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fp8_load_path_on_gpu(tiny_paths):
    from llm.loader import ModelLoadError, load_model
    from tests.worker.conftest import settings_for

    major, minor = torch.cuda.get_device_capability()
    if (major, minor) < (8, 9):
        with pytest.raises(ModelLoadError, match="compute capability"):
            load_model(settings_for(tiny_paths, quant="fp8", dtype="bf16"))
        return
    loaded = load_model(settings_for(tiny_paths, quant="fp8", dtype="bf16"))
    assert loaded.merged and loaded.model_id.endswith(":fp8")
    from llm.engine import Engine

    with Engine(loaded) as eng:
        assert eng.generate("hello", max_new_tokens=4, ignore_eos=True).completion_tokens == 4
