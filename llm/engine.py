"""The serving engine: one background thread running ``step()`` over a shared batch.

Celery task threads (a ``threads`` pool) call ``submit()`` concurrently and wait on the returned
``Future``; the engine thread loops schedule → forward → sample → update, so concurrent jobs
share forward passes (continuous batching: requests join between decode steps and leave as soon
as they finish). Logs carry request ids and lengths, never prompt text.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from llm.runner import ModelRunner, PrefillInput
from llm.scheduler import PRIORITIES, Priority, ScheduledRequest, Scheduler, SchedulerLimits
from llm.threads import LoadProbe, ThreadGovernor, usable_cores
from llm.truncation import FittedPrompt, PromptTooLongError, fit_prompt

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]


def kv_token_budget(loaded: Any, max_batch: int, memory_fraction: float = 0.8) -> int:
    """How many tokens of KV cache the batch may hold.

    CPU: ``max_batch`` full contexts. CUDA: what fits in ``memory_fraction`` of the free GPU memory
    after loading, divided by 1.25 because slot rows are left-padded to a common length.
    """
    full = max_batch * max(loaded.max_context, 1)
    if not str(loaded.device).startswith("cuda"):
        return full
    import torch

    cfg = loaded.model.config
    heads = getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    dtype_bytes = torch.finfo(torch.bfloat16 if loaded.dtype == "bfloat16" else
                              getattr(torch, loaded.dtype, torch.float16)).bits // 8
    per_token = 2 * cfg.num_hidden_layers * heads * head_dim * dtype_bytes
    free, _ = torch.cuda.mem_get_info(torch.device(loaded.device).index or 0)
    budget = int(free * memory_fraction / per_token / 1.25)
    log.info("KV budget: %d tokens (%.1f MiB per token, %.1f GiB free)", budget,
             per_token / 2**20, free / 2**30)
    return max(1, min(full, budget))


def resolve_cpu_threads(requested: int = 0) -> int:
    """Intra-op threads for the engine's forward passes on a CPU when load cannot be measured:
    ``requested`` if > 0, else every usable core but one (see llm/threads.py: a team as wide as
    the machine stalls whenever the rest of the stack takes a core)."""
    if requested > 0:
        return requested
    import torch

    return max(1, min(torch.get_num_threads(), usable_cores() - 1))


def _thread_governor(device: str, requested: int) -> ThreadGovernor | None:
    """CPU with MODEL_CPU_THREADS=0 and a readable /proc: the team follows the measured load."""
    if device.startswith("cuda") or requested > 0 or not LoadProbe.available():
        return None
    import torch

    return ThreadGovernor(usable=max(1, min(torch.get_num_threads(), usable_cores())))


class EngineError(RuntimeError):
    """The engine could not finish a request (the forward pass failed or the engine stopped)."""


class RequestCancelled(EngineError):
    pass


@dataclass(frozen=True)
class GenerationResult:
    request_id: str
    text: str
    token_ids: list[int]  # the completion's token ids (EOS excluded)
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (EOS) | "length" (max_new_tokens) | "context" (window full)
    truncated: dict[str, Any] | None  # from fit_prompt: {"policy", "original_tokens", "kept_tokens"}
    model_id: str
    queue_seconds: float  # submit → admitted into the batch
    total_seconds: float  # submit → finished


@dataclass
class _Request:
    request_id: str
    input_ids: list[int]
    max_new_tokens: int  # capped so that prompt + completion fits the context
    requested_new_tokens: int
    priority: Priority
    on_progress: ProgressCallback | None
    truncated: dict[str, Any] | None
    ignore_eos: bool
    future: Future
    submitted: float = field(default_factory=time.monotonic)
    admitted: float = 0.0
    tokens: list[int] = field(default_factory=list)
    reported_tokens: int = 0
    reported_at: float = 0.0


def _batch_beside_interactive(configured: int, device: str) -> int | None:
    """-1: the device's default. A CPU step cannot be split and every batch row lengthens it,
    so batch work pauses while an interactive request runs (0); a GPU runs extra rows almost
    for free (None: no cap)."""
    if configured >= 0:
        return configured
    return None if device.startswith("cuda") else 0


class Engine:
    def __init__(
        self,
        loaded: Any,  # llm.loader.LoadedModel
        *,
        max_batch: int = 32,
        max_batch_tokens: int | None = None,
        max_prefill_tokens: int | None = None,
        max_batch_prefill_tokens: int | None = None,
        default_max_new_tokens: int = 128,
        progress_every_tokens: int = 8,
        progress_interval_s: float = 0.25,
        cpu_threads: int = 0,
        batch_beside_interactive: int = -1,
        start: bool = True,
    ) -> None:
        self.loaded = loaded
        self.tokenizer = loaded.tokenizer
        self.model_id: str = loaded.model_id
        self.max_context: int = loaded.max_context
        self.default_max_new_tokens = default_max_new_tokens
        self.progress_every_tokens = progress_every_tokens
        self.progress_interval_s = progress_interval_s
        eos = getattr(loaded.model.generation_config, "eos_token_id", None)
        eos = eos if eos is not None else self.tokenizer.eos_token_id
        self._eos: set[int] = set(eos if isinstance(eos, (list, tuple)) else [eos])
        limits = SchedulerLimits(
            max_batch=max_batch,
            max_batch_tokens=max_batch_tokens or kv_token_budget(loaded, max_batch),
            # CPU: ~8 prompts of 256 tokens per prefill forward was the most CPU-efficient size
            # measured; GPUs want bigger prefill batches.
            max_prefill_tokens=max_prefill_tokens
            or (16384 if str(loaded.device).startswith("cuda") else 2048),
            batch_beside_interactive=_batch_beside_interactive(batch_beside_interactive, str(loaded.device)),
            # CPU: a step prefilling 2,048 batch tokens took ~0.2 s with the demo model, all of it
            # added to an interactive request arriving then; 512 keeps that wait short
            max_batch_prefill_tokens=max_batch_prefill_tokens
            or (None if str(loaded.device).startswith("cuda") else 512),
        )
        self.scheduler = Scheduler(limits)
        # CPU only (a GPU's kernels do not need host threads); set on the engine thread, whose
        # OpenMP/MKL thread count is its own, so the rest of the process keeps torch's default.
        # MODEL_CPU_THREADS=0 lets the governor size the team from the measured load.
        self._governor = _thread_governor(str(loaded.device), cpu_threads)
        self.threads: int | None = (None if str(loaded.device).startswith("cuda")
                                    else self._governor.threads if self._governor
                                    else resolve_cpu_threads(cpu_threads))
        self.runner = ModelRunner(loaded.model, pad_token_id=self.tokenizer.pad_token_id,
                                  device=loaded.device)
        self._requests: dict[str, _Request] = {}  # engine thread only
        self._inbox: list[_Request] = []
        self._cancel: set[str] = set()
        self._cv = threading.Condition()
        self._tok_lock = threading.Lock()  # HF tokenizers mutate state per call: not thread-safe
        self._ids = itertools.count(1)
        self._stopping = False
        self._thread: threading.Thread | None = None
        # Progress callbacks (a DB update, a Redis XADD) run on their own thread, in order, so a
        # slow callback never stalls the shared forward passes.
        self._callbacks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mindq-llm-progress")
        self.stats: dict[str, int] = {"submitted": 0, "completed": 0, "failed": 0, "steps": 0,
                                      "prompt_tokens": 0, "generated_tokens": 0, "batch_rows": 0,
                                      "preempted": 0, "step_ms": 0, "prefill_ms": 0, "decode_ms": 0,
                                      "thread_changes": 0}
        if start:
            self.start()

    # -- public API (any thread) ----------------------------------------------------------------
    def submit(
        self,
        prompt: str | Sequence[int],
        *,
        max_new_tokens: int | None = None,
        priority: Priority = "batch",
        on_progress: ProgressCallback | None = None,
        request_id: str | None = None,
        truncated: dict[str, Any] | None = None,
        ignore_eos: bool = False,
    ) -> Future:
        """Queue a rendered prompt (text, or token ids); the Future resolves to a GenerationResult.

        ``ignore_eos`` generates exactly max_new_tokens (benchmarks with random weights).

        Raises PromptTooLongError at once if the prompt alone fills the context (use ``fit``
        first). When prompt + max_new_tokens exceeds the context, generation stops at the
        context end with finish_reason "context".
        """
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, not {priority!r}")
        max_new = self.default_max_new_tokens if max_new_tokens is None else int(max_new_tokens)
        if max_new < 1:
            raise ValueError("max_new_tokens must be >= 1")
        if isinstance(prompt, str):
            with self._tok_lock:
                input_ids = self.tokenizer(prompt)["input_ids"]
        else:
            input_ids = [int(t) for t in prompt]
        if not input_ids:
            raise ValueError("empty prompt")
        if len(input_ids) >= self.max_context:
            raise PromptTooLongError(f"prompt has {len(input_ids)} tokens; context is {self.max_context}")
        req = _Request(request_id or f"req-{next(self._ids)}", list(input_ids),
                       min(max_new, self.max_context - len(input_ids)), max_new, priority,
                       on_progress, truncated, ignore_eos, Future())
        with self._cv:
            if self._stopping:
                raise EngineError("engine is shut down")
            self._inbox.append(req)
            self.stats["submitted"] += 1
            self._cv.notify()
        log.debug("submitted request=%s prompt_tokens=%d max_new=%d priority=%s",
                  req.request_id, len(input_ids), max_new, priority)
        return req.future

    def generate(self, prompt: str, **kwargs: Any) -> GenerationResult:
        """Blocking convenience: ``submit(...).result()``."""
        return self.submit(prompt, **kwargs).result()

    def fit(self, text: str, render: Callable[[str], str], *, max_new_tokens: int | None = None,
            policy: str = "head_tail") -> FittedPrompt:
        """Render ``text`` so that prompt + max_new_tokens fits this model's context."""
        with self._tok_lock:
            return fit_prompt(text, render, self.tokenizer, max_context=self.max_context,
                              max_new_tokens=max_new_tokens or self.default_max_new_tokens,
                              policy=policy)

    def cancel(self, request_id: str) -> None:
        """Stop a request wherever it is; its Future fails with RequestCancelled."""
        with self._cv:
            self._cancel.add(request_id)
            self._cv.notify()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="mindq-llm-engine", daemon=True)
            self._thread.start()

    def shutdown(self, timeout: float | None = 30) -> None:
        """Stop the loop; unfinished requests fail with EngineError."""
        with self._cv:
            self._stopping = True
            self._cv.notify()
        if self._thread is not None:
            self._thread.join(timeout)
        for req in list(self._requests.values()) + self._inbox:
            self._fail(req, EngineError("engine shut down"))
        self._callbacks.shutdown(wait=True)

    def snapshot(self) -> dict[str, Any]:
        """Queue depths and counters for health/metrics."""
        return {"model_id": self.model_id, "waiting": self.scheduler.num_waiting + len(self._inbox),
                "running": self.scheduler.num_running, "threads": self.threads, **self.stats}

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- engine thread --------------------------------------------------------------------------
    def _loop(self) -> None:
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        if self._governor:
            self._governor.prime()
        while True:
            with self._cv:
                while not (self._stopping or self._inbox or self._cancel or self.scheduler.has_work()):
                    self._cv.wait()
                if self._stopping:
                    return
            if self._governor:
                self._follow_load(self._governor)
            started = time.perf_counter()
            try:
                self.step()
            except Exception:  # never let the loop die; fail the batch instead
                log.exception("engine step failed")
            self.stats["step_ms"] += round((time.perf_counter() - started) * 1000)

    def _follow_load(self, governor: ThreadGovernor) -> None:
        threads = governor.update()
        if threads != self.threads:
            import torch

            log.info("engine threads %s -> %d (load of other work changed)", self.threads, threads)
            torch.set_num_threads(threads)
            self.threads = threads
            self.stats["thread_changes"] += 1

    def step(self) -> None:
        """One iteration: admit → prefill new + decode running → sample → update/finish."""
        self._take_inbox()
        self._preempt_for_interactive()
        plan = self.scheduler.schedule()
        now = time.monotonic()
        prefill = []
        for item in plan.admitted:
            req = self._requests[item.request_id]
            req.admitted = req.admitted or now
            # A preempted request resumes by prefilling its prompt plus what it generated so far.
            prefill.append(PrefillInput(req.request_id, req.input_ids + req.tokens,
                                        req.max_new_tokens - len(req.tokens)))
        try:
            t0 = time.perf_counter()
            tokens = self.runner.decode()  # requests already running
            t1 = time.perf_counter()
            tokens.update(self.runner.prefill(prefill))  # newcomers get their first token
            # forward time split, in ms: tells a slow step's cause (prefill-bound vs decode-bound)
            self.stats["decode_ms"] += round((t1 - t0) * 1000)
            self.stats["prefill_ms"] += round((time.perf_counter() - t1) * 1000)
            self.stats["steps"] += 1
            self.stats["batch_rows"] += len(tokens)
            finished = self._update(tokens)
            self.runner.release(finished)
            self.scheduler.finish(finished)
        except Exception as exc:  # e.g. CUDA OOM: fail this batch, keep serving
            log.exception("engine step failed; failing %d running requests", len(plan.running))
            self._fail_running(plan.running, EngineError(f"generation failed: {exc}"))

    def _preempt_for_interactive(self) -> None:
        for rid in self.scheduler.preempt_for_interactive():
            req = self._requests[rid]
            self.runner.release([rid])
            self.scheduler.requeue(ScheduledRequest(rid, len(req.input_ids) + len(req.tokens),
                                                    req.max_new_tokens - len(req.tokens), req.priority))
            self.stats["preempted"] += 1
            log.debug("preempted request=%s after %d tokens", rid, len(req.tokens))

    def _fail_running(self, request_ids: list[str], exc: Exception) -> None:
        self.runner.reset()
        self.scheduler.finish(request_ids)
        for rid in request_ids:
            req = self._requests.pop(rid, None)
            if req is not None:
                self._fail(req, exc)

    def _take_inbox(self) -> None:
        with self._cv:
            inbox, self._inbox = self._inbox, []
            cancel, self._cancel = self._cancel, set()
        for req in inbox:
            if not req.future.set_running_or_notify_cancel():
                continue  # cancelled by the caller before we saw it
            if req.request_id in self._requests:  # e.g. a redelivered task while the first runs
                self._fail(req, EngineError(f"request id {req.request_id} is already running"))
                continue
            self._requests[req.request_id] = req
            self.scheduler.add(ScheduledRequest(req.request_id, len(req.input_ids),
                                                req.max_new_tokens, req.priority))
        for rid in cancel:
            if self.scheduler.abort(rid):
                self.runner.release([rid])
                self._fail(self._requests.pop(rid), RequestCancelled(f"request {rid} cancelled"))

    def _update(self, tokens: dict[str, int]) -> list[str]:
        finished = []
        now = time.monotonic()
        for rid, token in tokens.items():
            req = self._requests[rid]
            reason = None
            if token in self._eos and not req.ignore_eos:
                reason = "stop"
            else:
                req.tokens.append(token)
                if len(req.tokens) >= req.max_new_tokens:
                    reason = "length" if req.max_new_tokens == req.requested_new_tokens else "context"
            if reason is not None:
                finished.append(rid)
                self._complete(self._requests.pop(rid), reason, now)
            elif req.on_progress is not None and (
                len(req.tokens) - req.reported_tokens >= self.progress_every_tokens
                or now - req.reported_at >= self.progress_interval_s and req.reported_at
            ):
                self._progress(req, req.on_progress, now)
            elif req.on_progress is not None and not req.reported_at:
                req.reported_at = now  # the interval clock starts at the first token
        return finished

    def _progress(self, req: _Request, callback: ProgressCallback, now: float) -> None:
        req.reported_tokens, req.reported_at = len(req.tokens), now
        self._callbacks.submit(_call_progress, callback, req.request_id, len(req.tokens),
                               req.max_new_tokens)

    def _complete(self, req: _Request, reason: str, now: float) -> None:
        with self._tok_lock:
            text = self.tokenizer.decode(req.tokens, skip_special_tokens=True)
        result = GenerationResult(
            request_id=req.request_id, text=text, token_ids=list(req.tokens),
            prompt_tokens=len(req.input_ids),
            completion_tokens=len(req.tokens), finish_reason=reason, truncated=req.truncated,
            model_id=self.model_id, queue_seconds=req.admitted - req.submitted,
            total_seconds=now - req.submitted,
        )
        self.stats["completed"] += 1
        self.stats["prompt_tokens"] += result.prompt_tokens
        self.stats["generated_tokens"] += result.completion_tokens
        log.debug("finished request=%s prompt_tokens=%d completion_tokens=%d reason=%s",
                  req.request_id, result.prompt_tokens, result.completion_tokens, reason)
        req.future.set_result(result)

    def _fail(self, req: _Request, exc: Exception) -> None:
        self.stats["failed"] += 1
        if not req.future.done():
            req.future.set_exception(exc)


def _call_progress(callback: ProgressCallback, request_id: str, done: int, total: int) -> None:
    try:
        callback(done, total)
    except Exception:  # a broken callback must not stop generation
        log.exception("progress callback failed for request=%s", request_id)
