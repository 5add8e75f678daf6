"""Admission policy, with no model and no torch."""
from __future__ import annotations

import sys

from llm.scheduler import ScheduledRequest, Scheduler, SchedulerLimits


def req(rid: str, priority: str = "batch", prompt: int = 10, new: int = 10) -> ScheduledRequest:
    return ScheduledRequest(rid, prompt, new, priority)


def test_scheduler_module_does_not_import_torch():
    import importlib
    import subprocess
    code = "import sys, llm.scheduler; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert importlib.import_module("llm.scheduler")


def test_interactive_admitted_before_earlier_batch():
    s = Scheduler(SchedulerLimits(max_batch=2))
    for r in (req("b1"), req("b2"), req("i1", "interactive"), req("b3"), req("i2", "interactive")):
        s.add(r)
    assert [r.request_id for r in s.schedule().admitted] == ["i1", "i2"]
    s.finish(["i1"])
    assert [r.request_id for r in s.schedule().admitted] == ["b1"]
    assert s.waiting_ids() == ["b2", "b3"]


def test_interactive_jumps_queue_when_slot_frees():
    s = Scheduler(SchedulerLimits(max_batch=1))
    s.add(req("b1"))
    s.add(req("b2"))
    assert [r.request_id for r in s.schedule().admitted] == ["b1"]
    s.add(req("i1", "interactive"))
    assert s.schedule().admitted == []  # full: nobody is preempted
    s.finish(["b1"])
    assert [r.request_id for r in s.schedule().admitted] == ["i1"]


def test_max_batch_and_running_list():
    s = Scheduler(SchedulerLimits(max_batch=3))
    for i in range(5):
        s.add(req(f"r{i}"))
    out = s.schedule()
    assert len(out.admitted) == 3 and out.running == ["r0", "r1", "r2"]
    assert s.num_waiting == 2 and s.num_running == 3


def test_token_budget_limits_admission_fifo():
    s = Scheduler(SchedulerLimits(max_batch=10, max_batch_tokens=100))
    s.add(req("a", prompt=40, new=20))  # 60
    s.add(req("b", prompt=40, new=20))  # would make 120
    s.add(req("c", prompt=5, new=5))   # small, but must not overtake b
    assert [r.request_id for r in s.schedule().admitted] == ["a"]
    s.finish(["a"])
    assert [r.request_id for r in s.schedule().admitted] == ["b", "c"]


def test_prefill_budget_spreads_a_burst_over_steps():
    s = Scheduler(SchedulerLimits(max_batch=10, max_prefill_tokens=25))
    for i in range(4):
        s.add(req(f"r{i}", prompt=10))
    assert len(s.schedule().admitted) == 2
    assert len(s.schedule().admitted) == 2


def test_oversized_request_runs_alone_rather_than_starving():
    s = Scheduler(SchedulerLimits(max_batch=4, max_batch_tokens=50, max_prefill_tokens=50))
    s.add(req("huge", prompt=200, new=10))
    s.add(req("small"))
    assert [r.request_id for r in s.schedule().admitted] == ["huge"]
    assert s.schedule().admitted == []
    s.finish(["huge"])
    assert [r.request_id for r in s.schedule().admitted] == ["small"]


def test_abort_waiting_and_running():
    s = Scheduler(SchedulerLimits(max_batch=1))
    s.add(req("a"))
    s.add(req("b"))
    s.schedule()
    assert s.abort("b") and s.waiting_ids() == []
    assert s.abort("a") and not s.has_work()
    assert not s.abort("zzz")


def test_unknown_priority_rejected():
    import pytest
    with pytest.raises(ValueError):
        Scheduler().add(req("x", priority="urgent"))


def test_interactive_preempts_newest_batch_when_full():
    s = Scheduler(SchedulerLimits(max_batch=2))
    s.add(req("b1"))
    s.add(req("b2"))
    s.add(req("b3"))
    s.schedule()
    assert s.preempt_for_interactive() == []  # nothing interactive waiting
    s.add(req("i1", "interactive"))
    victims = s.preempt_for_interactive()
    assert victims == ["b2"]
    for rid in victims:
        s.requeue(req(rid, prompt=12, new=8))  # resumes with its generated tokens as prompt
    assert [r.request_id for r in s.schedule().admitted] == ["i1"]
    s.finish(["i1"])
    assert [r.request_id for r in s.schedule().admitted] == ["b2"]  # kept its place before b3


def test_interactive_never_preempts_interactive_and_can_be_disabled():
    s = Scheduler(SchedulerLimits(max_batch=1))
    s.add(req("i1", "interactive"))
    s.schedule()
    s.add(req("i2", "interactive"))
    assert s.preempt_for_interactive() == []
    off = Scheduler(SchedulerLimits(max_batch=1, preempt_batch_for_interactive=False))
    off.add(req("b1"))
    off.schedule()
    off.add(req("i1", "interactive"))
    assert off.preempt_for_interactive() == []


def test_batch_beside_interactive_caps_admission_and_preempts_the_excess():
    s = Scheduler(SchedulerLimits(max_batch=8, batch_beside_interactive=1))
    for i in range(4):
        s.add(req(f"b{i}"))
    assert [r.request_id for r in s.schedule().admitted] == ["b0", "b1", "b2", "b3"]  # no interactive: no cap
    s.add(req("i1", "interactive"))
    assert s.preempt_for_interactive() == ["b3", "b2", "b1"]  # newest first, down to the cap
    for rid in ("b3", "b2", "b1"):
        s.requeue(req(rid))
    assert [r.request_id for r in s.schedule().admitted] == ["i1"]  # slots are free, the cap holds
    s.add(req("i2", "interactive"))
    assert s.preempt_for_interactive() == [] and [r.request_id for r in s.schedule().admitted] == ["i2"]
    s.finish(["i1", "i2"])  # interactive work gone: batch fills the batch again, in order
    assert [r.request_id for r in s.schedule().admitted] == ["b1", "b2", "b3"]


def test_batch_beside_interactive_zero_pauses_batch_while_interactive_runs():
    s = Scheduler(SchedulerLimits(max_batch=8, batch_beside_interactive=0))
    s.add(req("i1", "interactive"))
    s.add(req("b1"))
    assert [r.request_id for r in s.schedule().admitted] == ["i1"]
    assert s.schedule().admitted == []  # i1 still runs: b1 waits
    s.finish(["i1"])
    assert [r.request_id for r in s.schedule().admitted] == ["b1"]


def test_batch_prefill_budget_spreads_batch_prompts_but_not_interactive_ones():
    s = Scheduler(SchedulerLimits(max_batch=8, max_batch_prefill_tokens=25))
    for i in range(3):
        s.add(req(f"b{i}", prompt=10))
    s.add(req("long", prompt=40))
    assert [r.request_id for r in s.schedule().admitted] == ["b0", "b1"]  # 20 of 25
    assert [r.request_id for r in s.schedule().admitted] == ["b2"]  # 10 + 40 would pass 25
    assert [r.request_id for r in s.schedule().admitted] == ["long"]  # over the budget alone: its own step
    for i in range(3):
        s.add(req(f"i{i}", "interactive", prompt=10))
    assert [r.request_id for r in s.schedule().admitted] == ["i0", "i1", "i2"]  # interactive is not held to it
