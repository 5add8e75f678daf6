"""Admission control for the serving engine: which waiting requests join the running batch.

The scheduler owns the queues and limits and nothing else: it never imports torch and never
sees the model, so its policy is unit-tested with plain dataclasses. The runner owns model
state; the engine joins the two in ``step()`` and tells the scheduler explicitly which requests
finished so both sides free them.

Policy:
- interactive requests are admitted before batch ones; FIFO within a priority class;
- at most ``max_batch`` requests run at once;
- ``max_batch_tokens`` bounds the KV cache: the sum over running requests of
  prompt + max_new tokens (their worst-case cache length) stays under it;
- ``max_prefill_tokens`` bounds the prompt tokens prefilled in one step, so a burst of long
  prompts does not stall the requests already decoding for too long.
A request that alone exceeds a token budget is still admitted when nothing else runs
(otherwise it would wait forever); the engine rejects prompts longer than the context earlier.

When interactive requests wait and every slot is taken, the most recently admitted batch
requests are preempted (vLLM's recompute preemption): they go back to the head of the batch
queue and, when readmitted, their prompt plus the tokens generated so far is prefilled again, so
their greedy output is unchanged.

``max_batch_prefill_tokens`` keeps each step that prefills batch prompts short: an interactive
request arriving mid-step waits for that step to end.

``batch_beside_interactive`` caps the batch requests that run while an interactive one runs or
waits: none are admitted past it, and those over it are preempted as above. A step cannot be
split, so on a CPU each batch row and each batch prompt prefilled beside an interactive request
lengthens every one of its steps (the engine's default there is 0: the nightly re-analysis pauses
while a clinician waits); on a GPU extra rows are nearly free (no cap).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

Priority = Literal["interactive", "batch"]
PRIORITIES: tuple[Priority, ...] = ("interactive", "batch")


@dataclass(frozen=True)
class ScheduledRequest:
    """What the scheduler needs to know about a request: ids and lengths, never text."""

    request_id: str
    prompt_tokens: int
    max_new_tokens: int
    priority: Priority = "batch"

    @property
    def budget_tokens(self) -> int:
        return self.prompt_tokens + self.max_new_tokens


@dataclass(frozen=True)
class SchedulerLimits:
    max_batch: int = 32
    max_batch_tokens: int = 32 * 2048
    max_prefill_tokens: int = 8192
    preempt_batch_for_interactive: bool = True
    batch_beside_interactive: int | None = None  # None: no cap beyond max_batch
    # prompt tokens of batch requests prefilled in one step (None: max_prefill_tokens only); an
    # interactive request that arrives waits for the step in flight, so short batch steps bound it
    max_batch_prefill_tokens: int | None = None


@dataclass
class SchedulerOutput:
    """One step's decision: requests to prefill now, and everything running after admission."""

    admitted: list[ScheduledRequest] = field(default_factory=list)
    running: list[str] = field(default_factory=list)


class Scheduler:
    """Not thread-safe: the engine calls it from its loop thread (submissions go through a lock
    in the engine)."""

    def __init__(self, limits: SchedulerLimits | None = None) -> None:
        self.limits = limits or SchedulerLimits()
        self._waiting: dict[Priority, deque[ScheduledRequest]] = {p: deque() for p in PRIORITIES}
        self._running: dict[str, ScheduledRequest] = {}

    # -- queue state -----------------------------------------------------------------------
    @property
    def num_waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    @property
    def num_running(self) -> int:
        return len(self._running)

    def has_work(self) -> bool:
        return bool(self._running) or self.num_waiting > 0

    def waiting_ids(self) -> list[str]:
        return [r.request_id for p in PRIORITIES for r in self._waiting[p]]

    # -- transitions -----------------------------------------------------------------------
    def add(self, request: ScheduledRequest) -> None:
        if request.priority not in self._waiting:
            raise ValueError(f"unknown priority {request.priority!r}")
        self._waiting[request.priority].append(request)

    def _interactive_present(self) -> bool:
        return bool(self._waiting["interactive"]) or any(
            r.priority == "interactive" for r in self._running.values())

    def _batch_running(self) -> int:
        return sum(r.priority == "batch" for r in self._running.values())

    def _batch_cap(self) -> int | None:
        """How many batch requests may run now: the cap while interactive work is present."""
        cap = self.limits.batch_beside_interactive
        return cap if cap is not None and self._interactive_present() else None

    def _batch_prefill_fits(self, prefill_tokens: int, req: ScheduledRequest) -> bool:
        """The batch prefill budget of one step; a prompt over it alone still runs, in a step of
        its own, so a long prompt is never starved."""
        limit = self.limits.max_batch_prefill_tokens
        return limit is None or prefill_tokens == 0 or prefill_tokens + req.prompt_tokens <= limit

    def schedule(self) -> SchedulerOutput:
        """Admit waiting requests (interactive first) within the limits."""
        out = SchedulerOutput()
        used_tokens = sum(r.budget_tokens for r in self._running.values())
        prefill_tokens = 0
        for priority in PRIORITIES:
            queue = self._waiting[priority]
            # interactive ones were admitted first: the cap sees those this step admitted too
            cap = self._batch_cap() if priority == "batch" else None
            while queue:
                req = queue[0]
                if len(self._running) >= self.limits.max_batch:
                    break
                if cap is not None and self._batch_running() >= cap:
                    break
                if priority == "batch" and not self._batch_prefill_fits(prefill_tokens, req):
                    break
                alone = not self._running and not out.admitted
                fits = (
                    used_tokens + req.budget_tokens <= self.limits.max_batch_tokens
                    and prefill_tokens + req.prompt_tokens <= self.limits.max_prefill_tokens
                )
                if not (fits or alone):
                    break  # FIFO within a class: no overtaking by smaller requests
                queue.popleft()
                self._running[req.request_id] = req
                out.admitted.append(req)
                used_tokens += req.budget_tokens
                prefill_tokens += req.prompt_tokens
            else:
                continue
            break  # a class that could not be fully admitted blocks lower classes this step
        out.running = list(self._running)
        return out

    def preempt_for_interactive(self) -> list[str]:
        """Running batch requests to pause (newest first) so that waiting interactive ones get a
        slot this step, and so that no more batch requests than ``batch_beside_interactive`` run
        beside interactive ones; they leave the running set and the engine calls ``requeue`` for
        each."""
        waiting = len(self._waiting["interactive"])
        if not self.limits.preempt_batch_for_interactive or not self._interactive_present():
            return []
        need = waiting - (self.limits.max_batch - len(self._running))
        cap = self._batch_cap()
        if cap is not None:
            need = max(need, self._batch_running() - cap)
        if need <= 0:
            return []
        batch = [rid for rid, r in reversed(self._running.items()) if r.priority == "batch"]
        victims = batch[:need]
        for rid in victims:
            del self._running[rid]
        return victims

    def requeue(self, request: ScheduledRequest) -> None:
        """Put a preempted request back at the head of its queue; call in the order
        ``preempt_for_interactive`` returned (newest first) to keep the original order."""
        self._waiting[request.priority].appendleft(request)

    def finish(self, request_ids: list[str]) -> None:
        """Forget finished (or failed) running requests."""
        for rid in request_ids:
            self._running.pop(rid, None)

    def abort(self, request_id: str) -> bool:
        """Drop a request wherever it is; True if it was known."""
        if self._running.pop(request_id, None) is not None:
            return True
        for queue in self._waiting.values():
            for req in queue:
                if req.request_id == request_id:
                    queue.remove(req)
                    return True
        return False
