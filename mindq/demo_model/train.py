"""Train the demo model: a BPE tokenizer, a small LLaMA base, then a LoRA adapter.

Two stages, so the adapter is what answers (and a test can show it): the base is a plain causal
language model over the posts' text (it has never seen a question or an answer); the LoRA
adapter, trained on IMHI's instructions with the loss on the answer tokens only, teaches it to
answer in MentaLLaMA's form. Prompts are fitted exactly as the engine fits them at serving time
(``llm.truncation.fit_prompt``, the type's max_new_tokens, the same context), so training and
serving see the same token sequences.

Written by hand rather than with transformers' Trainer: the loop is thirty lines, and the
Trainer's accelerate/dataset machinery costs more on a 2-core CPU than the model does.
"""
from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import prompts
from llm.tiny import train_tokenizer
from llm.truncation import fit_prompt

from .data import Example, read_imhi, split_note
from .everyday import everyday_examples

log = logging.getLogger("mindq.demo_model")

MODEL_NAME = "mindq-demo"
CARD_FILE = "mindq_model.json"
TRAINED_TASKS = ("imhi.dr", "imhi.dreaddit", "imhi.sad", "imhi.irf", "imhi.multiwd")


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the weights; written into the model card."""

    version: str = "1"
    seed: int = 0
    vocab: int = 4096
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    intermediate: int = 352
    context: int = 512  # fits every template, its answer budget and a journal entry
    base_doc_tokens: int = 128
    train_post_tokens: int = 128  # posts cut (head and tail, as served) to this many tokens in training
    base_epochs: int = 1
    base_lr: float = 2e-3
    base_batch_tokens: int = 1024
    lora_r: int = 32
    lora_alpha: int = 64
    lora_epochs: int = 3
    lora_lr: float = 3e-3
    # small steps: a model this size learns from the number of updates more than from their size
    batch_tokens: int = 1536  # tokens per optimiser step (batches are length-bucketed)
    label_weight: float = 8.0  # the answer's first token decides the label: weigh it more
    everyday_per_type: int = 300
    threads: int = 1  # on a shared 2-core machine one thread trains ~3x faster than two


Progress = Callable[[str, float, dict[str, Any]], None]


def _quiet(stage: str, frac: float, info: dict[str, Any]) -> None:
    log.info("%s %.0f%% %s", stage, 100 * frac, info)


# -- data ---------------------------------------------------------------------------------------
def _fit(example: Example, tokenizer: Any, context: int, post_tokens: int) -> str:
    spec = prompts.get_type(example.type)
    post = fit_prompt(example.post, lambda t: t, tokenizer, max_context=post_tokens, max_new_tokens=0).prompt
    return fit_prompt(post, lambda t: prompts.render(example.type, t, **example.fields), tokenizer,
                      max_context=context, max_new_tokens=spec.max_new_tokens).prompt


def _sft_rows(examples: Sequence[Example], tokenizer: Any, context: int,
              post_tokens: int) -> list[tuple[list[int], int]]:
    """(token ids, index of the first answer token) per example: BOS prompt, answer, EOS.
    The prompt is tokenized alone, as the engine tokenizes it, and the answer after it."""
    rows = []
    for ex in examples:
        prompt_ids = tokenizer(_fit(ex, tokenizer, context, post_tokens))["input_ids"]
        answer_ids = tokenizer(" " + ex.answer, add_special_tokens=False)["input_ids"]
        ids = (prompt_ids + answer_ids)[: context - 1] + [tokenizer.eos_token_id]
        rows.append((ids, len(prompt_ids)))
    return rows


def _batches(lengths: Sequence[int], batch_tokens: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches of about ``batch_tokens`` padded tokens, in random order."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        longest_if = max(longest, lengths[i])
        if current and longest_if * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current, longest_if = [], lengths[i]
        current.append(i)
        longest = longest_if
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def _tensors(rows: Sequence[tuple[list[int], int]], idx: Sequence[int], pad: int, label_weight: float):
    import torch

    width = max(len(rows[i][0]) for i in idx)
    ids = torch.full((len(idx), width), pad, dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    weights = torch.zeros((len(idx), width), dtype=torch.float32)
    for r, i in enumerate(idx):
        seq, answer_at = rows[i]
        ids[r, : len(seq)] = torch.tensor(seq)
        mask[r, : len(seq)] = 1
        weights[r, answer_at: len(seq)] = 1.0  # loss on the answer (and EOS) only
        if answer_at < len(seq):
            weights[r, answer_at] = label_weight
    return ids, mask, weights


def _weighted_loss(model: Any, ids: Any, mask: Any, weights: Any) -> Any:
    import torch.nn.functional as F

    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
    target, w = ids[:, 1:], weights[:, 1:]
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), target.reshape(-1), reduction="none")
    return (loss * w.reshape(-1)).sum() / w.sum().clamp(min=1.0)


def _run_epochs(model: Any, rows: Sequence[tuple[list[int], int]], *, epochs: int, lr: float, recipe: Recipe,
                pad: int, stage: str, progress: Progress, label_weight: float, batch_tokens: int) -> list[float]:
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0, betas=(0.9, 0.98))
    rng = random.Random(recipe.seed)
    plan = [_batches([len(r[0]) for r in rows], batch_tokens, rng) for _ in range(epochs)]
    total = sum(len(p) for p in plan)
    warmup = max(1, total // 20)
    step, losses, started = 0, [], time.monotonic()
    model.train()
    for epoch, batches in enumerate(plan):
        running = 0.0
        for n, idx in enumerate(batches):
            scale = min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / total))
            for group in opt.param_groups:
                group["lr"] = lr * max(scale, 0.02)
            loss = _weighted_loss(model, *_tensors(rows, idx, pad, label_weight))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            running += float(loss)
            step += 1
            if step % 100 == 0 or step == total:
                progress(stage, step / total, {"epoch": epoch + 1, "loss": round(running / (n + 1), 4),
                                               "elapsed_s": round(time.monotonic() - started)})
        losses.append(running / max(len(batches), 1))
    model.eval()
    return losses


# -- stages -------------------------------------------------------------------------------------
def _tokenizer(train: Sequence[Example], recipe: Recipe):
    from prompts.rendering import load_template

    corpus = [ex.prompt() + " " + ex.answer for ex in train]
    # every template, so the clinical prompts tokenize into words rather than bytes
    corpus += [load_template(spec.template_file).template for spec in prompts.ANALYSIS_TYPES.values()] * 20
    tokenizer = train_tokenizer(recipe.vocab, corpus)
    tokenizer.model_max_length = recipe.context
    return tokenizer


def _base_model(tokenizer: Any, recipe: Recipe):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=recipe.hidden, intermediate_size=recipe.intermediate,
        num_hidden_layers=recipe.layers, num_attention_heads=recipe.heads, num_key_value_heads=recipe.heads,
        max_position_embeddings=recipe.context, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False,
        dtype="float32",
    )
    torch.manual_seed(recipe.seed)
    return LlamaForCausalLM(config)


def _base_rows(docs: Sequence[str], tokenizer: Any, recipe: Recipe) -> list[tuple[list[int], int]]:
    rows = []
    for doc in docs:
        ids = tokenizer(doc)["input_ids"][: recipe.base_doc_tokens] + [tokenizer.eos_token_id]
        rows.append((ids, 1))  # loss on every token after BOS
    return rows


def _attach_lora(model: Any, recipe: Recipe):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=recipe.lora_r, lora_alpha=recipe.lora_alpha, lora_dropout=0.05, task_type="CAUSAL_LM",
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                        # the adapter carries its own embeddings and output head: the words that
                        # mark distress need vectors the plain language model never had to learn
                        modules_to_save=["embed_tokens", "lm_head"])
    return get_peft_model(model, config)


# -- entry point --------------------------------------------------------------------------------
def train_demo(imhi_root: Path, out_dir: Path, scrub: Callable[[str], str], *, recipe: Recipe = Recipe(),
               progress: Progress = _quiet, limit: int | None = None) -> dict[str, Any]:
    """Train and write ``out_dir/base`` and ``out_dir/adapter`` (+ the model card); return the card.
    ``limit`` caps the training examples (a quick smoke build, never the shipped model)."""
    import torch

    from .evaluate import evaluate

    torch.set_num_threads(recipe.threads)
    started = time.monotonic()
    train = read_imhi(imhi_root, "train", scrub) + everyday_examples(recipe.everyday_per_type, recipe.seed)
    val = read_imhi(imhi_root, "val", scrub)
    random.Random(recipe.seed).shuffle(train)
    if limit:
        train, val = train[:limit], val[: max(limit // 4, 40)]
    progress("data", 1.0, {"train": len(train), "val": len(val)})

    tokenizer = _tokenizer(train, recipe)
    model = _base_model(tokenizer, recipe)
    docs = sorted({ex.post for ex in train})
    base_losses = _run_epochs(model, _base_rows(docs, tokenizer, recipe), epochs=recipe.base_epochs,
                              lr=recipe.base_lr, recipe=recipe, pad=tokenizer.pad_token_id, stage="base",
                              progress=progress, label_weight=1.0, batch_tokens=recipe.base_batch_tokens)

    staging = Path(out_dir).with_name(Path(out_dir).name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    base_dir, adapter_dir = staging / "base", staging / "adapter"
    try:
        model.save_pretrained(base_dir, safe_serialization=True)
        tokenizer.save_pretrained(base_dir)
        model.generation_config.save_pretrained(base_dir)

        peft_model = _attach_lora(model, recipe)
        rows = _sft_rows(train, tokenizer, recipe.context, recipe.train_post_tokens)
        lora_losses = _run_epochs(peft_model, rows, epochs=recipe.lora_epochs, lr=recipe.lora_lr, recipe=recipe,
                                  pad=tokenizer.pad_token_id, stage="lora", progress=progress,
                                  label_weight=recipe.label_weight, batch_tokens=recipe.batch_tokens)
        peft_model.peft_config["default"].base_model_name_or_path = str(base_dir)
        peft_model.save_pretrained(str(adapter_dir), safe_serialization=True)
        _name_base(adapter_dir)

        figures = evaluate(peft_model, tokenizer, val, context=recipe.context, progress=progress)
        card = _card(recipe, imhi_root, train, val, base_losses, lora_losses, figures,
                     time.monotonic() - started, model)
        (base_dir / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
        out = Path(out_dir)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return card


def _name_base(adapter_dir: Path) -> None:
    """Record a stable base name (as real adapters record a hub id), not this machine's path."""
    path = adapter_dir / "adapter_config.json"
    config = json.loads(path.read_text())
    config["base_model_name_or_path"] = f"{MODEL_NAME}/base"
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def _card(recipe: Recipe, imhi_root: Path, train: Sequence[Example], val: Sequence[Example],
          base_losses: list[float], lora_losses: list[float], figures: dict[str, Any], seconds: float,
          model: Any) -> dict[str, Any]:
    from collections import Counter

    return {
        "name": MODEL_NAME,
        "version": recipe.version,
        "kind": "demo",
        "not_for_clinical_use": True,
        "summary": ("A few-million-parameter LLaMA + LoRA trained on a CPU on MentaLLaMA's public IMHI "
                    "instruction data, to show the platform end to end. It is not MentaLLaMA and not a "
                    "clinical model."),
        "answers": list(TRAINED_TASKS),
        "cannot_answer": sorted(set(prompts.ANALYSIS_TYPES) - set(TRAINED_TASKS)),
        "data": {
            "source": "github.com/SteveKGYang/MentalLLaMA train_data/instruction_data (MIT licence); "
                      "test_data never read",
            "splits": split_note(imhi_root),
            "train_examples": dict(Counter(ex.task for ex in train)),
            "val_examples": dict(Counter(ex.task for ex in val)),
            "everyday_negatives": "mindq.demo_model.everyday (seeded generator written for mindq)",
            "scrubbed": "posts pass through mindq's PHI scrubber, as served text does",
        },
        "recipe": asdict(recipe),
        # the adapter: LoRA matrices and its own copies of the embeddings and output head
        "parameters": {"base": sum(p.numel() for n, p in model.named_parameters()
                                   if "lora_" not in n and "modules_to_save" not in n),
                       "adapter": sum(p.numel() for n, p in model.named_parameters()
                                      if "lora_" in n or "modules_to_save" in n)},
        "training": {"base_loss_per_epoch": [round(x, 4) for x in base_losses],
                     "lora_loss_per_epoch": [round(x, 4) for x in lora_losses],
                     "seconds": round(seconds)},
        "validation": figures,
    }
