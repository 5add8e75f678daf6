"""The slot KV cache under churn: rows freed and reused, compaction, growth, left shifts.

Every request's greedy tokens must equal its tokens when run alone, whatever joins or leaves
around it.
"""
from __future__ import annotations

import random

import pytest

from llm.runner import ModelRunner, PrefillInput

WORDS = "sleep mood tired hopeless friends work anxiety appetite worry better the and of to".split()


def _prompts(tokenizer, n: int, seed: int = 0) -> list[list[int]]:
    rng = random.Random(seed)
    return [tokenizer(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40))))["input_ids"]
            for _ in range(n)]


def _run_alone(loaded, ids: list[int], new: int) -> list[int]:
    runner = ModelRunner(loaded.model, pad_token_id=loaded.tokenizer.pad_token_id, device="cpu")
    out = [runner.prefill([PrefillInput("x", ids, new)])["x"]]
    while len(out) < new:
        out.append(runner.decode()["x"])
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_churn_matches_alone(loaded, monkeypatch, seed):
    # Small thresholds so that compaction and left shifts happen within a short run.
    monkeypatch.setattr(ModelRunner, "PADDING_COMPACT", 3)
    rng = random.Random(seed)
    prompts = _prompts(loaded.tokenizer, 10, seed)
    budgets = [rng.randint(1, 12) for _ in prompts]
    expected = [_run_alone(loaded, p, n) for p, n in zip(prompts, budgets, strict=True)]

    runner = ModelRunner(loaded.model, pad_token_id=loaded.tokenizer.pad_token_id, device="cpu")
    got: dict[str, list[int]] = {}
    pending = list(range(len(prompts)))
    saw = {"reused_row": False, "max_rows": 0}
    while pending or runner.running_ids:
        tokens = runner.decode()
        if pending and rng.random() < 0.6:  # a random group joins this step
            group = [pending.pop(0) for _ in range(min(len(pending), rng.randint(1, 3)))]
            free_before = runner.slots.count(None)
            tokens.update(runner.prefill([PrefillInput(str(i), prompts[i], budgets[i]) for i in group]))
            saw["reused_row"] |= free_before > 0
        for rid, tok in tokens.items():
            got.setdefault(rid, []).append(tok)
        done = [rid for rid in runner.running_ids if len(got[rid]) >= budgets[int(rid)]]
        runner.release(done)
        saw["max_rows"] = max(saw["max_rows"], len(runner.slots))
        assert runner.mask.shape == (len(runner.slots), runner.cache_length)
    assert saw["max_rows"] >= 3
    for i, want in enumerate(expected):
        assert got[str(i)] == want, f"request {i} (prompt {len(prompts[i])} tokens) diverged"


def test_free_rows_are_reused_without_growing(loaded):
    runner = ModelRunner(loaded.model, pad_token_id=loaded.tokenizer.pad_token_id, device="cpu")
    prompts = _prompts(loaded.tokenizer, 6)
    runner.prefill([PrefillInput(str(i), prompts[i], 20) for i in (0, 1, 2, 3, 5)])
    runner.decode()
    capacity = runner.cache.capacity
    runner.release(["1"])  # one hole in five rows stays (below the compaction threshold)
    assert runner.slots == ["0", None, "2", "3", "5"]
    runner.prefill([PrefillInput("4", prompts[4], 5)])
    assert runner.slots == ["0", "4", "2", "3", "5"] and runner.cache.capacity == capacity
    runner.release(["0", "4"])  # two of five rows free: compacted
    assert runner.slots == ["2", "3", "5"]
    runner.release(["2", "3", "5"])
    assert runner.running_ids == [] and runner.cache_length == 0
    assert runner.cache.capacity == capacity  # buffers kept for the next burst
