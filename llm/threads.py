"""How many intra-op threads the CPU engine's forward passes use, chosen from measured load.

An OpenMP team waits at every op's barrier for its slowest thread, so a team as wide as the
machine stalls whenever another process takes one of its cores: on 2 shared cores, decode steps
with 2 threads took 2-6x the wall time of 1 thread while other work ran. On a quiet machine the
opposite holds: 2 threads ran 64 jobs 1.5x faster than 1 (bench/llm.py --engine-threads 2,0).
A fixed count is wrong one way or the other, so the engine asks this module, about once a
second, how many cores the rest of the machine is using and sizes its team to the cores left.

Load is read from /proc/stat (each CPU's busy time, only the CPUs this process may run on) minus
this process's own CPU time from /proc/self/stat; where /proc is missing (macOS) the engine keeps
the old rule, every usable core but one. A CPU quota (cgroup cpu.max) is not visible here: set
MODEL_CPU_THREADS under one.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_PROC_STAT = "/proc/stat"
_SELF_STAT = "/proc/self/stat"


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def threads_for(usable: int, others_busy: float) -> int:
    """Threads that fit the cores the rest of the machine leaves: a core counts as taken once
    others keep it more than half busy."""
    return max(1, min(usable, math.floor(usable - others_busy + 0.5)))


@dataclass
class LoadProbe:
    """Cores' worth of CPU time spent by other processes since the previous ``sample()``."""

    cpus: set[int] = field(default_factory=lambda: set(os.sched_getaffinity(0))
                           if hasattr(os, "sched_getaffinity") else set())
    stat_path: str = _PROC_STAT
    self_path: str = _SELF_STAT
    clock: Callable[[], float] = time.monotonic
    _last: tuple[float, float, float] | None = None  # (monotonic s, all busy s, own busy s)

    @staticmethod
    def available() -> bool:
        return os.path.exists(_PROC_STAT) and os.path.exists(_SELF_STAT)

    def _read(self) -> tuple[float, float, float]:
        tick = os.sysconf("SC_CLK_TCK")
        busy = 0
        with open(self.stat_path) as f:
            for line in f:
                name, _, rest = line.partition(" ")
                if not name.startswith("cpu") or name == "cpu":
                    continue
                if self.cpus and int(name[3:]) not in self.cpus:
                    continue
                # user nice system idle iowait irq softirq steal ...: idle and iowait are not busy
                fields = [int(v) for v in rest.split()]
                busy += sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)
        with open(self.self_path) as f:
            own = f.read().rsplit(")", 1)[1].split()
        return self.clock(), busy / tick, (int(own[11]) + int(own[12])) / tick

    def sample(self) -> float | None:
        """Cores busy with other work over the interval since the last call (None on the first)."""
        now = self._read()
        last, self._last = self._last, now
        if last is None or now[0] - last[0] <= 0:
            return None
        others = (now[1] - last[1]) - (now[2] - last[2])
        return max(0.0, others / (now[0] - last[0]))


@dataclass
class ThreadGovernor:
    """Sizes the engine's team from ``LoadProbe`` samples: down at once when other work takes a
    core (a stalled team costs more than a narrow one), back up only after ``patience`` samples
    in a row agree, so a burst of other work does not make it flap."""

    usable: int
    probe: LoadProbe = field(default_factory=LoadProbe)
    interval_s: float = 1.0
    patience: int = 2
    threads: int = 0
    _up_votes: int = 0
    _next_at: float = 0.0
    _decided: bool = False

    def __post_init__(self) -> None:
        if not self.threads:
            self.threads = max(1, self.usable - 1)  # until the first interval is measured

    def update(self) -> int:
        """The thread count to use now (samples at most once per ``interval_s``)."""
        now = time.monotonic()
        if now < self._next_at:
            return self.threads
        self._next_at = now + self.interval_s
        others = self.probe.sample()
        if others is not None:
            self.decide(others)
        return self.threads

    def prime(self) -> None:
        """Start the first interval (the engine calls it when it starts)."""
        self.probe.sample()
        self._next_at = time.monotonic() + self.interval_s

    def decide(self, others_busy: float) -> int:
        want = threads_for(self.usable, others_busy)
        if not self._decided:  # the first measurement replaces the guess outright
            self._decided = True
            self.threads = want
        elif want < self.threads:
            self.threads, self._up_votes = want, 0
        elif want > self.threads:
            self._up_votes += 1
            if self._up_votes >= self.patience:
                self.threads, self._up_votes = want, 0
        else:
            self._up_votes = 0
        return self.threads
