"""Random-weight LLaMA models built in memory, for benchmarks at real shapes.

A 33B model cannot be saved on a benchmark machine's disk, so the GPU benchmark builds it
directly on the device from a ``LlamaConfig`` (random weights, bf16), optionally adds a random
LoRA, merges and/or quantises it the way ``loader.load_model`` would, and wraps it in a
``LoadedModel`` so the engine serves it like the real one. Token ids stand in for text.
"""
from __future__ import annotations

import logging
from typing import Any, TypedDict

import torch

from llm.loader import LoadedModel, ModelLoadError

log = logging.getLogger(__name__)



class LlamaShape(TypedDict):
    """The ``LlamaConfig`` arguments that fix a model's size."""

    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int
    max_position_embeddings: int


LLAMA_SHAPES: dict[str, LlamaShape] = {
    # Llama-2-7B / Vicuna-7B
    "7b": LlamaShape(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                     num_attention_heads=32, num_key_value_heads=32, vocab_size=32000,
                     max_position_embeddings=4096),
    # Vicuna-33B (LLaMA-1 33B): the MentaLLaMA-33B-lora base
    "33b": LlamaShape(hidden_size=6656, intermediate_size=17920, num_hidden_layers=60,
                      num_attention_heads=52, num_key_value_heads=52, vocab_size=32000,
                      max_position_embeddings=2048),
}


class IdTokenizer:
    """Stand-in tokenizer for random models: prompts are token-id lists, text is the ids."""

    bos_token_id, eos_token_id, pad_token_id = 1, 2, 0

    def __init__(self, vocab_size: int) -> None:
        self.vocab_size = vocab_size

    def __call__(self, text: str, **_: Any) -> dict[str, list[int]]:
        return {"input_ids": [self.bos_token_id] + [3 + (ord(c) % (self.vocab_size - 3)) for c in text]}

    def decode(self, ids: list[int], **_: Any) -> str:
        return " ".join(map(str, ids))

    def __len__(self) -> int:
        return self.vocab_size


def build_random(shape: str, *, device: str = "cuda", dtype: torch.dtype = torch.bfloat16,
                 quant: str = "none", lora_r: int = 8, merge: bool = True, seed: int = 0) -> LoadedModel:
    """A random LLaMA of a named shape on ``device`` with a random LoRA (r=lora_r; 0: none)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(**LLAMA_SHAPES[shape], bos_token_id=1, eos_token_id=2, pad_token_id=0)
    torch.manual_seed(seed)
    with torch.device(device):
        model = LlamaForCausalLM._from_config(config, dtype=dtype)  # weights born on the GPU
    model.eval()
    merged = False
    if lora_r and quant in ("none", "fp8"):
        model = _add_random_lora(model, lora_r)
        if merge or quant == "fp8":
            model = model.merge_and_unload()
            merged = True
    if quant == "fp8":
        from llm.fp8 import quantize_linears_fp8

        quantize_linears_fp8(model)
    elif quant in ("8bit", "4bit"):
        _quantize_bnb(model, quant, dtype)
        if lora_r:
            model = _add_random_lora(model, lora_r)  # LoRA on top of bnb layers (peft supports it)
    elif quant != "none":
        raise ModelLoadError(f"unknown quant {quant!r}")
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    model.eval()
    return LoadedModel(
        model=model, tokenizer=IdTokenizer(config.vocab_size), device=device,
        dtype=str(dtype).removeprefix("torch."), quant=quant, merged=merged,
        model_id=f"random-llama-{shape}+lora{lora_r}", max_context=config.max_position_embeddings,
        info={"parameters": sum(p.numel() for p in model.parameters())},
    )


def _add_random_lora(model, r: int):
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.0, task_type="CAUSAL_LM",
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj"], inference_mode=True)
    peft_model = get_peft_model(model, lora)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.01)
    return peft_model


def _quantize_bnb(model, quant: str, dtype: torch.dtype) -> None:
    """Swap nn.Linear for bitsandbytes layers, one at a time (bnb quantises a weight when it
    moves from CPU to the GPU, so each weight is staged through host memory)."""
    try:
        import bitsandbytes as bnb
    except ImportError as exc:
        raise ModelLoadError(f"quant {quant} needs bitsandbytes") from exc
    targets = [(n, m) for n, m in model.named_modules()
               if isinstance(m, torch.nn.Linear) and not n.endswith("lm_head")]
    for name, linear in targets:
        device = linear.weight.device
        weight = linear.weight.detach().to("cpu", torch.float16)
        if quant == "8bit":
            layer = bnb.nn.Linear8bitLt(linear.in_features, linear.out_features, bias=False,
                                        has_fp16_weights=False, threshold=6.0)
            layer.weight = bnb.nn.Int8Params(weight, requires_grad=False, has_fp16_weights=False)
        else:
            layer = bnb.nn.Linear4bit(linear.in_features, linear.out_features, bias=False,
                                      compute_dtype=dtype, quant_type="nf4")
            layer.weight = bnb.nn.Params4bit(weight, requires_grad=False, quant_type="nf4")
        layer = layer.to(device)  # quantises
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name), child, layer)
        del linear
