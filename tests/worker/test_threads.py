"""The CPU engine's thread governor: load read from /proc, the team sized to the cores left."""
from __future__ import annotations

import os
import sys

import pytest

from llm.threads import LoadProbe, ThreadGovernor, threads_for


class ScriptedProbe(LoadProbe):
    """Returns the given loads, one per sample."""

    def __init__(self, loads: list[float | None]) -> None:
        super().__init__()
        self.loads = list(loads)

    def sample(self) -> float | None:
        return self.loads.pop(0)


@pytest.mark.parametrize(("usable", "others", "want"), [
    (2, 0.0, 2), (2, 0.4, 2), (2, 0.6, 1), (2, 1.0, 1), (2, 3.0, 1),
    (8, 0.0, 8), (8, 2.2, 6), (8, 2.6, 5), (1, 0.0, 1),
])
def test_threads_fit_the_cores_other_work_leaves(usable, others, want):
    assert threads_for(usable, others) == want


def test_governor_steps_down_at_once_and_up_only_after_patience():
    gov = ThreadGovernor(usable=4, probe=ScriptedProbe([]), interval_s=0, patience=2)
    assert gov.threads == 3  # the guess before anything is measured: every core but one
    assert gov.decide(0.0) == 4  # the first measurement is taken as it is
    assert gov.decide(1.7) == 2  # other work took cores: narrower at once
    assert gov.decide(0.0) == 2  # one quiet sample is not enough to widen again
    assert gov.decide(1.7) == 2  # ... and a sample that agrees with now resets the count
    assert gov.decide(0.0) == 2
    assert gov.decide(0.0) == 4


def test_governor_samples_once_per_interval():
    probe = ScriptedProbe([None, 0.0, 1.0])
    gov = ThreadGovernor(usable=2, probe=probe, interval_s=3600)
    gov.prime()  # takes the first (None) sample
    assert gov.update() == 1 and probe.loads == [0.0, 1.0]  # within the interval: not sampled
    gov._next_at = 0.0
    assert gov.update() == 2 and probe.loads == [1.0]


def _write_stat(path, cpus: dict[int, list[int]]) -> None:
    total = [sum(col) for col in zip(*cpus.values(), strict=True)]
    lines = ["cpu  " + " ".join(map(str, total))]
    lines += [f"cpu{n} " + " ".join(map(str, v)) for n, v in cpus.items()]
    lines += ["intr 12345 0 0", "ctxt 999", "btime 1"]
    path.write_text("\n".join(lines) + "\n")


def _write_self(path, utime: int, stime: int) -> None:
    fields = ["S"] + ["0"] * 10 + [str(utime), str(stime)] + ["0"] * 30
    path.write_text("4242 (python3 (odd) name) " + " ".join(fields) + "\n")


@pytest.mark.skipif(not hasattr(os, "sysconf"), reason="needs os.sysconf")
def test_probe_counts_other_work_on_its_own_cpus_only(tmp_path):
    stat, me = tmp_path / "stat", tmp_path / "self"
    tick = os.sysconf("SC_CLK_TCK")
    clock = iter([100.0, 102.0])
    probe = LoadProbe(cpus={0, 1}, stat_path=str(stat), self_path=str(me), clock=lambda: next(clock))
    # user nice system idle iowait irq softirq steal
    _write_stat(stat, {0: [100, 0, 0, 500, 7, 0, 0, 0], 1: [100, 0, 0, 500, 0, 0, 0, 0],
                       2: [0, 0, 0, 900, 0, 0, 0, 0]})
    _write_self(me, 50, 10)
    assert probe.sample() is None
    # over 2 s: cpu0 busy 2 s, cpu1 busy 1 s (iowait is idle), cpu2 busy 2 s but not ours;
    # this process used 1.5 s of that
    _write_stat(stat, {0: [100 + 2 * tick, 0, 0, 500, 7, 0, 0, 0],
                       1: [100, 0, tick, 500 + tick, 5 * tick, 0, 0, 0],
                       2: [2 * tick, 0, 0, 900, 0, 0, 0, 0]})
    _write_self(me, 50 + tick, 10 + tick // 2)
    assert probe.sample() == pytest.approx((3.0 - 1.5) / 2, abs=0.02)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_probe_reads_this_machine():
    probe = LoadProbe()
    assert LoadProbe.available()
    assert probe.sample() is None
    sum(i * i for i in range(200_000))  # some time passes
    load = probe.sample()
    assert load is not None and 0.0 <= load <= len(os.sched_getaffinity(0)) + 0.5
