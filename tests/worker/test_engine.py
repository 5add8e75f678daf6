"""Continuous batching on the tiny model: batch invariance, admission order, progress, limits."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from llm.engine import Engine, EngineError, GenerationResult, RequestCancelled, resolve_cpu_threads
from llm.loader import load_model
from llm.truncation import PromptTooLongError

PROMPTS = [
    "USER: Consider this post: \"I can't sleep and I feel hopeless.\" Question: Does the poster "
    "suffer from depression? ASSISTANT:",
    "hello",
    "The patient reports anxiety, low mood, fatigue and poor appetite over the last weeks.",
    "Question: What is the suicide risk level of this post?",
    "USER: Consider this post: \"Work is stressful but my friends help me.\" Question: Does the "
    "poster suffer from stress? ASSISTANT: no. Reasoning:",
    "sleep",
]
NEW = 16


def hf_greedy(loaded, prompt: str, new: int = NEW) -> list[int]:
    """Plain HF generate, one prompt, no padding: the reference."""
    ids = loaded.tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        out = loaded.model.generate(**ids, max_new_tokens=new, do_sample=False,
                                    pad_token_id=loaded.tokenizer.pad_token_id)
    tokens = out[0, ids["input_ids"].shape[1]:].tolist()
    eos = loaded.tokenizer.eos_token_id
    return tokens[: tokens.index(eos)] if eos in tokens else tokens


def engine_tokens(loaded, result: GenerationResult) -> list[int]:
    return loaded.tokenizer(result.text, add_special_tokens=False)["input_ids"]


@pytest.fixture(scope="module")
def alone(loaded):
    """Each prompt's output when it runs alone in the engine."""
    eng = Engine(loaded, max_batch=1)
    try:
        return [eng.generate(p, max_new_tokens=NEW) for p in PROMPTS]
    finally:
        eng.shutdown()


def test_alone_matches_plain_hf_generate(loaded, alone):
    for prompt, result in zip(PROMPTS, alone, strict=True):
        ids = loaded.tokenizer(prompt)["input_ids"]
        assert result.prompt_tokens == len(ids)
        assert result.completion_tokens == NEW and result.finish_reason == "length"
        assert result.text == loaded.tokenizer.decode(hf_greedy(loaded, prompt), skip_special_tokens=True)


def test_mixed_batch_gives_same_outputs(engine, alone):
    futures = [engine.submit(p, max_new_tokens=NEW) for p in PROMPTS]
    results = [f.result(timeout=60) for f in futures]
    assert [r.text for r in results] == [r.text for r in alone]
    assert engine.stats["batch_rows"] > engine.stats["steps"]  # really batched


def test_joining_midway_gives_same_outputs(loaded, alone):
    eng = Engine(loaded, max_batch=8, start=False)  # driven step by step from the test
    first = [eng.submit(p, max_new_tokens=NEW) for p in PROMPTS[:3]]
    for _ in range(5):
        eng.step()
    late = [eng.submit(p, max_new_tokens=NEW if i % 2 else 5) for i, p in enumerate(PROMPTS[3:])]
    while not all(f.done() for f in first + late):
        eng.step()
    assert [f.result().text for f in first] == [r.text for r in alone[:3]]
    assert late[1].result().text == alone[4].text
    # a shorter request leaves early; its text is the prefix of the full one
    assert alone[3].text.startswith(late[0].result().text)
    assert late[0].result().completion_tokens == 5
    assert eng.runner.running_ids == [] and not eng.scheduler.has_work()


def test_different_lengths_and_finishers_leave(loaded, alone):
    eng = Engine(loaded, max_batch=3, start=False)
    futures = [eng.submit(p, max_new_tokens=4 + 3 * i) for i, p in enumerate(PROMPTS)]
    max_rows = 0
    while not all(f.done() for f in futures):
        eng.step()
        max_rows = max(max_rows, len(eng.runner.running_ids))
    assert max_rows == 3
    for i, (f, ref) in enumerate(zip(futures, alone, strict=True)):
        r = f.result()
        assert r.completion_tokens == 4 + 3 * i
        assert ref.text.startswith(r.text) or r.text.startswith(ref.text)


def test_interactive_admitted_first(loaded):
    eng = Engine(loaded, max_batch=1, start=False)
    order = []
    for i in range(3):
        eng.submit(PROMPTS[i], max_new_tokens=2, request_id=f"b{i}").add_done_callback(
            lambda f: order.append(f.result().request_id))
    eng.submit(PROMPTS[3], max_new_tokens=2, priority="interactive",
               request_id="i0").add_done_callback(lambda f: order.append(f.result().request_id))
    while eng.scheduler.has_work() or eng._inbox:
        eng.step()
    assert order == ["i0", "b0", "b1", "b2"]


def test_progress_every_n_tokens(loaded):
    eng = Engine(loaded, progress_every_tokens=4, progress_interval_s=3600, start=False)
    calls = []
    fut = eng.submit(PROMPTS[0], max_new_tokens=NEW, on_progress=lambda d, m: calls.append((d, m)))
    while not fut.done():
        eng.step()
    eng.shutdown()  # waits for the callback thread
    assert calls == [(4, NEW), (8, NEW), (12, NEW)]  # the 16th token completes the Future


def test_progress_by_time_and_broken_callback(loaded, monkeypatch):
    eng = Engine(loaded, progress_every_tokens=1000, progress_interval_s=0.0, start=False)
    calls = []

    def callback(done, total):
        calls.append(done)
        raise RuntimeError("a broken callback must not stop generation")

    fut = eng.submit(PROMPTS[1], max_new_tokens=6, on_progress=callback)
    while not fut.done():
        eng.step()
    eng.shutdown()
    assert fut.result().completion_tokens == 6
    assert calls == [2, 3, 4, 5]  # clock starts at the first token; then each step


def test_many_threads_submit_concurrently(engine, alone):
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda i: engine.generate(PROMPTS[i % 6], max_new_tokens=NEW,
                                                          request_id=f"t{i}"), range(24)))
    assert [r.text for r in results] == [alone[i % 6].text for i in range(24)]
    assert {r.request_id for r in results} == {f"t{i}" for i in range(24)}


def test_prompt_longer_than_context_rejected(loaded):
    eng = Engine(loaded, start=False)
    with pytest.raises(PromptTooLongError):
        eng.submit("word " * 2000, max_new_tokens=4)


def test_generation_stops_at_context_end(loaded):
    eng = Engine(loaded, start=False)
    n = len(loaded.tokenizer(PROMPTS[0])["input_ids"])
    eng.max_context = n + 3
    fut = eng.submit(PROMPTS[0], max_new_tokens=10)
    while not fut.done():
        eng.step()
    assert fut.result().finish_reason == "context" and fut.result().completion_tokens == 3


def test_truncation_info_travels_to_result(engine):
    fitted = engine.fit("word " * 600, lambda t: f"USER: Consider this post: \"{t}\" ASSISTANT:",
                        max_new_tokens=8)
    assert fitted.truncated and fitted.truncated["policy"] == "head_tail"
    result = engine.generate(fitted.prompt, max_new_tokens=8, truncated=fitted.truncated)
    assert result.truncated == fitted.truncated
    assert result.prompt_tokens + 8 <= engine.max_context


def test_cancel_and_shutdown(loaded):
    eng = Engine(loaded, max_batch=1, start=False)
    running = eng.submit(PROMPTS[0], max_new_tokens=NEW, request_id="run")
    waiting = eng.submit(PROMPTS[1], max_new_tokens=NEW, request_id="wait")
    eng.step()
    eng.cancel("run")
    eng.cancel("wait")
    eng.step()
    with pytest.raises(RequestCancelled):
        running.result(timeout=1)
    with pytest.raises(RequestCancelled):
        waiting.result(timeout=1)
    assert eng.runner.running_ids == []
    late = eng.submit(PROMPTS[2], max_new_tokens=NEW)
    eng.shutdown()
    with pytest.raises(EngineError):
        late.result(timeout=1)
    with pytest.raises(EngineError):
        eng.submit(PROMPTS[2], max_new_tokens=NEW)


def test_forward_failure_fails_batch_and_engine_keeps_serving(loaded, monkeypatch, alone):
    eng = Engine(loaded, start=False)
    fut = eng.submit(PROMPTS[0], max_new_tokens=NEW)

    def boom(*a, **k):
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(eng.runner, "prefill", boom)
    eng.step()
    with pytest.raises(EngineError, match="out of memory"):
        fut.result(timeout=1)
    monkeypatch.undo()
    fut = eng.submit(PROMPTS[0], max_new_tokens=NEW)
    while not fut.done():
        eng.step()
    assert fut.result().text == alone[0].text


def test_background_thread_idles_without_work(engine):
    assert engine.generate(PROMPTS[5], max_new_tokens=3).completion_tokens == 3
    steps = engine.stats["steps"]
    threading.Event().wait(0.2)
    assert engine.stats["steps"] == steps


def test_token_id_prompts_and_ignore_eos(loaded, alone):
    eng = Engine(loaded, start=False)
    ids = loaded.tokenizer(PROMPTS[0])["input_ids"]
    fut = eng.submit(ids, max_new_tokens=NEW, ignore_eos=True)
    while not fut.done():
        eng.step()
    assert fut.result().token_ids == hf_greedy(loaded, PROMPTS[0]) or fut.result().text == alone[0].text
    assert fut.result().completion_tokens == NEW


def test_engine_takes_model_settings_limits(tiny_paths):
    # built the way tasks/serving.py does at worker start: load, then the settings' limits
    from tests.worker.conftest import settings_for

    settings = settings_for(tiny_paths, max_batch=3, max_new_tokens=5)
    eng = Engine(load_model(settings, device="cpu"), max_batch=settings.max_batch,
                 default_max_new_tokens=settings.max_new_tokens, start=False)
    assert eng.scheduler.limits.max_batch == 3 and eng.default_max_new_tokens == 5
    fut = eng.submit(PROMPTS[2])
    while not fut.done():
        eng.step()
    assert fut.result().completion_tokens <= 5


def test_duplicate_request_id_rejected(loaded):
    eng = Engine(loaded, start=False)
    first = eng.submit(PROMPTS[1], max_new_tokens=3, request_id="job-1")
    second = eng.submit(PROMPTS[1], max_new_tokens=3, request_id="job-1")
    while not first.done():
        eng.step()
    assert first.result().completion_tokens == 3
    with pytest.raises(EngineError, match="already running"):
        second.result(timeout=1)


def test_slow_progress_callback_does_not_stall_decoding(loaded):
    release = threading.Event()
    seen = []

    def slow(done, total):
        release.wait(5)  # e.g. a slow database write
        seen.append(done)

    eng = Engine(loaded, progress_every_tokens=2, progress_interval_s=3600)
    try:
        result = eng.generate(PROMPTS[0], max_new_tokens=NEW, on_progress=slow)  # returns while blocked
        assert result.completion_tokens == NEW and seen == []
    finally:
        release.set()
        eng.shutdown()
    assert seen == [2, 4, 6, 8, 10, 12, 14]


def test_interactive_preempts_batch_and_batch_output_unchanged(loaded, alone):
    eng = Engine(loaded, max_batch=1, start=False)
    order = []
    batch = eng.submit(PROMPTS[0], max_new_tokens=NEW, request_id="b")
    batch.add_done_callback(lambda f: order.append("b"))
    for _ in range(5):
        eng.step()
    inter = eng.submit(PROMPTS[1], max_new_tokens=4, priority="interactive", request_id="i")
    inter.add_done_callback(lambda f: order.append("i"))
    while not batch.done():
        eng.step()
    assert order == ["i", "b"] and eng.stats["preempted"] == 1
    assert batch.result().text == alone[0].text  # resumed by recompute: same greedy tokens
    assert batch.result().completion_tokens == NEW
    assert alone[1].text.startswith(inter.result().text)


def test_on_a_cpu_batch_rows_pause_while_an_interactive_request_runs(loaded, alone):
    """With free slots (max_batch 4), a CPU engine still runs an interactive request alone: the
    batch rows are preempted and resume afterwards with the same greedy output."""
    eng = Engine(loaded, max_batch=4, start=False)
    batch = [eng.submit(PROMPTS[0], max_new_tokens=NEW, request_id=f"b{i}") for i in range(2)]
    for _ in range(3):
        eng.step()
    inter = eng.submit(PROMPTS[1], max_new_tokens=4, priority="interactive", request_id="i")
    rows_beside = []
    while not inter.done():
        eng.step()
        rows_beside.append(eng.runner.running_ids)
    assert all(ids in (["i"], []) for ids in rows_beside), rows_beside  # no batch row beside it
    assert eng.stats["preempted"] == 2
    while not all(f.done() for f in batch):
        eng.step()
    assert all(f.result().text == alone[0].text for f in batch)
    assert alone[1].text.startswith(inter.result().text)


def _threads_at_prefill(eng: Engine) -> list[int]:
    """The intra-op thread count each prefill of ``eng`` runs with, appended as it runs."""
    seen: list[int] = []
    prefill = eng.runner.prefill

    def spy(inputs):
        seen.append(torch.get_num_threads())
        return prefill(inputs)

    eng.runner.prefill = spy  # type: ignore[method-assign]
    return seen


def test_cpu_engine_thread_count_is_its_own(loaded):
    """The engine thread runs its forwards with its own intra-op thread count (a core is left
    to the rest of the stack by default); the process around it keeps torch's setting."""
    assert resolve_cpu_threads(3) == 3
    usable = len(os.sched_getaffinity(0))
    assert resolve_cpu_threads() == max(1, min(torch.get_num_threads(), usable - 1))
    before = torch.get_num_threads()
    want = 1 if before > 1 else 2
    eng = Engine(loaded, max_batch=2, cpu_threads=want, start=False)
    seen = _threads_at_prefill(eng)
    eng.start()
    try:
        eng.generate(PROMPTS[1], max_new_tokens=2)
    finally:
        eng.shutdown()
    assert seen and set(seen) == {want}
    assert eng.snapshot()["threads"] == want
    assert torch.get_num_threads() == before


def test_cpu_engine_follows_the_measured_load(loaded):
    """MODEL_CPU_THREADS=0: the engine thread resizes its team when the governor says so (here
    told that the machine went quiet, then busy), and the process around it keeps its count."""
    from llm.threads import LoadProbe, ThreadGovernor

    class Scripted(LoadProbe):
        def __init__(self, loads):
            super().__init__()
            self.loads = loads

        def sample(self):
            return self.loads.pop(0) if self.loads else 0.0

    before = torch.get_num_threads()
    eng = Engine(loaded, max_batch=2, cpu_threads=0, start=False)
    assert eng._governor is not None  # CPU, threads left to the engine, /proc readable
    eng._governor = ThreadGovernor(usable=3, probe=Scripted([None, 0.0, 2.0]), interval_s=0)
    seen = _threads_at_prefill(eng)
    eng.start()
    try:
        eng.generate(PROMPTS[1], max_new_tokens=1)  # quiet: every core
        eng.generate(PROMPTS[2], max_new_tokens=1)  # two cores taken by others: one thread
    finally:
        eng.shutdown()
    assert seen == [3, 1]
    assert eng.snapshot()["threads"] == 1 and eng.stats["thread_changes"] == 2
    assert torch.get_num_threads() == before
