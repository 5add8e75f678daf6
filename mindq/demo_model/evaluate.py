"""Weighted F1 per IMHI task from the model's greedy answers, parsed as the platform parses them.

The figure MentaLLaMA reports is weighted F1 over the labels read from the answers; an answer
that does not parse counts as wrong (it gets a label no gold answer has). Beside each task: the
majority-class baseline of the same examples, and the share of answers that parse.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import prompts
from llm.truncation import fit_prompt

from .data import Example

UNPARSED = "<unparsed>"
EVAL_MAX_NEW_TOKENS = 6  # the label comes first: "<label>. Reasoning:" fits in a few tokens


def weighted_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, average="weighted", labels=sorted(set(gold)), zero_division=0))


def score(gold: Sequence[str], predicted: Sequence[str | None]) -> dict[str, Any]:
    """Weighted F1, accuracy, parse rate and the majority-class baseline of one task."""
    pred = [p if p is not None else UNPARSED for p in predicted]
    majority = Counter(gold).most_common(1)[0][0]
    return {
        "n": len(gold),
        "weighted_f1": round(weighted_f1(gold, pred), 4),
        "accuracy": round(sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold), 4),
        "parsed": round(sum(p != UNPARSED for p in pred) / len(gold), 4),
        "majority_label": majority,
        "majority_weighted_f1": round(weighted_f1(gold, [majority] * len(gold)), 4),
    }


def generate_answers(model: Any, tokenizer: Any, prompt_texts: Sequence[str], *, batch: int = 32,
                     max_new_tokens: int = EVAL_MAX_NEW_TOKENS,
                     progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Greedy answers, batched with left padding (length-sorted to waste little on padding)."""
    import torch

    order = sorted(range(len(prompt_texts)), key=lambda i: len(prompt_texts[i]))
    out: list[str] = [""] * len(prompt_texts)
    for start in range(0, len(order), batch):
        idx = order[start: start + batch]
        enc = tokenizer([prompt_texts[i] for i in idx], return_tensors="pt", padding=True)
        with torch.inference_mode():
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        texts = tokenizer.batch_decode(gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        for i, text in zip(idx, texts, strict=True):
            out[i] = text
        if progress:
            progress(min(start + batch, len(order)), len(order))
    return out


def _fit(ex: Example, tokenizer: Any, context: int) -> str:
    def render(text: str) -> str:
        return prompts.render(ex.type, text, **ex.fields)

    return fit_prompt(ex.post, render, tokenizer, max_context=context,
                      max_new_tokens=prompts.get_type(ex.type).max_new_tokens).prompt


def evaluate(model: Any, tokenizer: Any, examples: Sequence[Example], *, context: int,
             progress: Callable[[str, float, dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """{task: score(...)} plus "mean_weighted_f1" over the tasks, from greedy answers."""
    texts = [_fit(ex, tokenizer, context) for ex in examples]
    answers = generate_answers(model, tokenizer, texts, progress=(
        (lambda done, total: progress("evaluate", done / total, {})) if progress else None))
    by_task: dict[str, tuple[list[str], list[str | None]]] = defaultdict(lambda: ([], []))
    for ex, answer in zip(examples, answers, strict=True):
        gold, pred = by_task[ex.task]
        gold.append(ex.label)
        pred.append(prompts.parse(ex.type, answer)["label"])
    figures: dict[str, Any] = {task: score(*pair) for task, pair in sorted(by_task.items())}
    figures["mean_weighted_f1"] = round(sum(f["weighted_f1"] for f in figures.values()) / len(by_task), 4)
    return figures
