"""Build a tiny (or "small") LLaMA + tokenizer + LoRA adapter in the real model's formats.

The result is a Vicuna-style base directory (config.json, safetensors, tokenizer files) and a
PEFT LoRA directory (adapter_config.json, adapter_model.safetensors), so every load path of the
real MentaLLaMA runs on it. Weights are random but deterministic (seeded); the LoRA B matrices are
non-zero so the adapter visibly changes the logits.

CLI: ``python -m llm.tiny OUT_DIR [--size tiny|small]`` (``mindq model build-tiny DIR``
should call ``build_tiny``).
"""
from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Special tokens follow Vicuna/LLaMA conventions; pad is separate so attention masks are explicit.
BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"

# A small corpus in the shape of the prompts the platform renders (MentaLLaMA query style,
# Vicuna chat roles), so the BPE merges produce chat-ish tokens rather than bytes.
_CORPUS = [
    "A chat between a curious user and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the user's questions.",
    "USER: Consider this post: \"I can't sleep and I feel hopeless every day.\" "
    "Question: Does the poster suffer from depression? ASSISTANT: yes. Reasoning: the post "
    "describes persistent hopelessness and insomnia.",
    "USER: Consider this post: \"Work has been stressful but my friends help me.\" "
    "Question: Does the poster suffer from stress? ASSISTANT: no. Reasoning: the poster "
    "describes support and coping.",
    "Question: What is the suicide risk level of this post? Answer: low, medium or high.",
    "Question: Does the poster feel lonely? Question: What is the cause of depression? "
    "Options: bad health, relationships, jobs and careers, alienation, medication, no reason.",
    "The patient reports anxiety, low mood, fatigue, poor appetite and trouble concentrating. "
    "Sentiment: positive, negative, neutral. Wellness dimensions: physical, emotional, social, "
    "intellectual, spiritual, vocational.",
    "This post shows the poster suffers from depression. Reasoning: The poster mentions feeling "
    "worthless, sad and tired, and losing interest in activities they used to enjoy.",
    "Progress between two notes: the patient's mood improved, sleep is better, less worry.",
    "0 1 2 3 4 5 6 7 8 9 . , ; : ! ? ' \" ( ) [ ] - the and of to a in is that it for on with",
]


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int
    max_positions: int


SHAPES: dict[str, Shape] = {
    # Fast enough to build in tests in well under a second.
    "tiny": Shape(hidden=64, layers=2, heads=4, kv_heads=4, intermediate=128, vocab=512,
                  max_positions=512),
    # Benchmark model: LLaMA proportions (head dim 64, SwiGLU 2.75x, 32k vocab) scaled down to
    # ~170M parameters, so matmuls and weight traffic, not Python overhead, dominate on a CPU.
    "small": Shape(hidden=1024, layers=8, heads=16, kv_heads=16, intermediate=2816, vocab=32000,
                   max_positions=1024),
}


def _pseudo_words(vocab_size: int) -> list[str]:
    """Seeded pseudo-words, so BPE finds enough merges for a LLaMA-sized (32k) vocabulary."""
    if vocab_size <= 1024:
        return []
    import random

    rng = random.Random(0)
    syllables = [c + v + e for c in "bcdfghjklmnprstvwz" for v in "aeiou" for e in ("", "n", "r", "s", "t")]
    words = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))
             for _ in range(vocab_size * 2)]
    return [" ".join(words[i:i + 50]) for i in range(0, len(words), 50)]


def train_tokenizer(vocab_size: int, corpus: Iterable[str] | None = None):
    """Train a byte-level BPE on ``corpus`` (default: the built-in one) and wrap it as a
    transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[UNK, BOS, EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus if corpus is not None else _CORPUS + _pseudo_words(vocab_size),
                            trainer=trainer)
    bos_id = tok.token_to_id(BOS)
    # LLaMA prepends BOS and never appends EOS to a prompt.
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, bos_id)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD, unk_token=UNK,
        padding_side="left",
    )


def build_tiny(
    out_dir: Path,
    *,
    layers: int | None = None,
    hidden: int | None = None,
    vocab: int | None = None,
    seed: int = 0,
    lora_r: int = 8,
    size: str = "tiny",
) -> tuple[Path, Path]:
    """Write ``out_dir/base`` (LLaMA + tokenizer) and ``out_dir/adapter`` (LoRA); return both.
    With ``out_dir = $MINDQ_HOME/models/tiny`` these are the configured default paths."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    shape = SHAPES[size]
    hidden = hidden or shape.hidden
    heads = shape.heads if hidden == shape.hidden else max(1, hidden // 16)
    out_dir = Path(out_dir)
    base_dir, adapter_dir = out_dir / "base", out_dir / "adapter"

    tokenizer = train_tokenizer(vocab or shape.vocab)
    tokenizer.model_max_length = shape.max_positions
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=shape.intermediate if hidden == shape.hidden else hidden * 2,
        num_hidden_layers=layers or shape.layers,
        num_attention_heads=heads,
        num_key_value_heads=shape.kv_heads if hidden == shape.hidden else heads,
        max_position_embeddings=shape.max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        dtype="float32",
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    # Random init with std 0.02 gives near-uniform logits; a larger spread makes greedy decoding
    # pick varied tokens, so batch-invariance tests compare something meaningful.
    with torch.no_grad():
        model.lm_head.weight.normal_(0.0, 0.2)
    base_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(base_dir, safe_serialization=True)
    tokenizer.save_pretrained(base_dir)
    model.generation_config.save_pretrained(base_dir)

    lora = LoraConfig(
        r=lora_r, lora_alpha=2 * lora_r, lora_dropout=0.0, task_type="CAUSAL_LM",
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
    )
    peft_model = get_peft_model(model, lora)
    # peft checks the base's config at save time: point it at the local copy (no hub lookup).
    peft_model.peft_config["default"].base_model_name_or_path = str(base_dir)
    # peft initialises B to zero (the adapter is a no-op); random B makes it change outputs.
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.05)
    adapter_dir.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(str(adapter_dir), safe_serialization=True)
    _name_base_model(adapter_dir, f"mindq/{size}-llama")
    log.info("built %s model: base=%s adapter=%s params=%d", size, base_dir, adapter_dir,
             sum(p.numel() for p in model.parameters()))
    return base_dir, adapter_dir


def _name_base_model(adapter_dir: Path, name: str) -> None:
    """Record a stable base name (as real adapters record a hub id), not this machine's path."""
    path = adapter_dir / "adapter_config.json"
    config = json.loads(path.read_text())
    config["base_model_name_or_path"] = name
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a tiny LLaMA + tokenizer + LoRA adapter")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--size", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lora-r", type=int, default=8)
    args = parser.parse_args(argv)
    base, adapter = build_tiny(args.out_dir, size=args.size, seed=args.seed, lora_r=args.lora_r)
    print(json.dumps({"base_path": str(base), "adapter_path": str(adapter)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
