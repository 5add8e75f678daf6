"""The four CPU load paths, the clear failures, and the optional GPU/bitsandbytes paths."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from llm.loader import ModelLoadError, load_model
from llm.tiny import build_tiny
from tests.worker.conftest import settings_for

PROMPT = "USER: Consider this post: I can't sleep. Question: Does the poster suffer from depression?"


def _logits(loaded) -> torch.Tensor:
    ids = loaded.tokenizer(PROMPT, return_tensors="pt")
    with torch.inference_mode():
        return loaded.model(**ids).logits[0, -1]


@pytest.fixture(scope="module")
def paths_logits(tiny_paths):
    out = {}
    for adapter in (False, True):
        for merge in (False, True):
            loaded = load_model(settings_for(tiny_paths, adapter=adapter, merge=merge), device="cpu")
            out[adapter, merge] = (loaded, _logits(loaded))
    return out


@pytest.mark.parametrize("adapter", [False, True])
@pytest.mark.parametrize("merge", [False, True])
def test_load_paths_generate(paths_logits, adapter, merge):
    loaded, logits = paths_logits[adapter, merge]
    assert torch.isfinite(logits).all()
    assert loaded.device == "cpu" and loaded.dtype == "float32" and loaded.quant == "none"
    assert loaded.merged == (adapter and merge)
    ids = loaded.tokenizer(PROMPT, return_tensors="pt")
    out = loaded.model.generate(**ids, max_new_tokens=4, do_sample=False,
                                pad_token_id=loaded.tokenizer.pad_token_id)
    assert out.shape[1] == ids["input_ids"].shape[1] + 4
    described = loaded.describe()
    assert described["device"] == "cpu" and described["model_id"] == loaded.model_id


def test_adapter_changes_logits_and_merge_preserves_them(paths_logits):
    base = paths_logits[False, False][1]
    with_adapter = paths_logits[True, False][1]
    merged = paths_logits[True, True][1]
    assert (base - with_adapter).abs().max() > 1e-2
    torch.testing.assert_close(merged, with_adapter, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(paths_logits[False, True][1], base)  # merge without adapter: no-op


def test_model_identity_names_base_and_adapter(paths_logits):
    without = paths_logits[False, False][0].model_id
    with_adapter = paths_logits[True, False][0].model_id
    assert without.startswith("tiny/base@")
    assert with_adapter.startswith("tiny/base+tiny/adapter@")
    assert with_adapter == paths_logits[True, True][0].model_id  # merging does not change the weights


def test_tiny_build_is_deterministic(tmp_path, tiny_paths):
    base, adapter = build_tiny(tmp_path / "again")
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (base / name).read_bytes() == (tiny_paths[0] / name).read_bytes()
    assert (adapter / "adapter_model.safetensors").read_bytes() == \
        (tiny_paths[1] / "adapter_model.safetensors").read_bytes()


def test_tokenizer_has_special_tokens(loaded):
    tok = loaded.tokenizer
    assert {tok.bos_token, tok.eos_token, tok.pad_token} == {"<s>", "</s>", "<pad>"}
    ids = tok("Question: depression?")["input_ids"]
    assert ids[0] == tok.bos_token_id and tok.eos_token_id not in ids
    assert len(ids) < len("Question: depression?")  # merges learned, not one token per byte


def _one_line_error(settings, match: str) -> str:
    with pytest.raises(ModelLoadError, match=match) as err:
        load_model(settings, device="cpu")
    assert "\n" not in str(err.value)
    return str(err.value)


def test_missing_base_path(tiny_paths, tmp_path):
    _one_line_error(settings_for((tmp_path / "nope", tiny_paths[1])), "MODEL_BASE_PATH=.*not a directory")


def test_base_without_weights(tiny_paths, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    _one_line_error(settings_for((tmp_path, None), adapter=False), "no model weights")


def test_missing_adapter_path(tiny_paths, tmp_path):
    _one_line_error(settings_for((tiny_paths[0], tmp_path / "nope")), "MODEL_ADAPTER_PATH=.*not a directory")


def test_adapter_for_another_base_shape(tiny_paths, tmp_path):
    _, other_adapter = build_tiny(tmp_path / "wide", hidden=96)
    msg = _one_line_error(settings_for((tiny_paths[0], other_adapter)), "does not match MODEL_BASE_PATH")
    assert "adapter trained for another base model" in msg


def test_corrupt_adapter_config(tiny_paths, tmp_path):
    broken = tmp_path / "adapter"
    shutil.copytree(tiny_paths[1], broken)
    cfg = json.loads((broken / "adapter_config.json").read_text())
    cfg["target_modules"] = ["no_such_proj"]
    (broken / "adapter_config.json").write_text(json.dumps(cfg))
    _one_line_error(settings_for((tiny_paths[0], broken)), "does not match")


@pytest.mark.parametrize("quant", ["8bit", "4bit", "fp8"])
def test_quantization_needs_a_gpu(tiny_paths, quant):
    _one_line_error(settings_for(tiny_paths, quant=quant), f"MODEL_QUANT={quant} needs a CUDA GPU")


def test_unknown_quant_and_dtype(tiny_paths):
    _one_line_error(settings_for(tiny_paths, quant="int3"), "MODEL_QUANT='int3'")
    base, adapter = tiny_paths
    from core.config import ModelSettings
    with pytest.raises(ModelLoadError, match="MODEL_DTYPE"):
        load_model(ModelSettings(base_path=base, adapter_path=adapter, dtype="fp64"), device="cpu")


def test_context_longer_than_model(tiny_paths):
    _one_line_error(settings_for(tiny_paths, max_context=100_000), "MODEL_MAX_CONTEXT")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("quant", ["8bit", "4bit"])
def test_bitsandbytes_on_gpu(tiny_paths, quant):
    pytest.importorskip("bitsandbytes")
    loaded = load_model(settings_for(tiny_paths, quant=quant, dtype="fp16"))
    assert loaded.quant == quant and loaded.model_id.endswith(f":{quant}")
    assert loaded.describe()["memory_total"] > 0
    assert torch.isfinite(_logits(loaded).float()).all()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only failure")
def test_8bit_without_gpu_is_clear(tiny_paths):
    msg = _one_line_error(settings_for(tiny_paths, quant="8bit"), "needs a CUDA GPU")
    assert "cpu" in msg
