"""What keeps ``mindq up`` serving without a human: every child (the embedded Redis and
PostgreSQL, web, workers, beat, flower) that dies is started again, after an exponential backoff.

Each child leads its own process group and gets SIGTERM from the kernel if the supervisor dies
(core.procs), so nothing outlives it, not even after a kill -9. When a child dies, what is left
of its group (gunicorn's workers, a Celery pool) is sent SIGTERM before the new one starts, so
the new one finds its port and queues free. Each restart is one JSON log line and one more in the
counts that the API's /metrics shows as ``mindq_supervisor_restarts_total{role=...}``.
"""
from __future__ import annotations

import dataclasses
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pythonjsonlogger.json import JsonFormatter

from core import supervision
from core.procs import die_with_parent, signal_group
from mindq.embedded import Service

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 30.0
STABLE_AFTER_S = 60.0  # a child that ran this long starts its backoff over
FATAL_EXIT = 3  # a role that cannot start (bad model or artefact): restarting cannot help


def _json_logger() -> logging.Logger:
    log = logging.getLogger("mindq.supervisor")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                           rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
                                           static_fields={"service": "supervisor"}))
        log.addHandler(handler)
        log.propagate = False
        log.setLevel(logging.INFO)
    return log


@dataclasses.dataclass
class Child:
    """A role (a command line run as a process) or an embedded service (restarted in place)."""

    name: str
    start: Callable[[], None]
    pid: Callable[[], int | None]  # None: not running
    returncode: Callable[[], int | None]  # None: still running
    restarts: int = 0
    failures: int = 0  # consecutive short lives, for the backoff
    started_at: float = 0.0
    due: float | None = None  # when a dead child is started again


class Supervisor:
    def __init__(self, home: Path, say: Callable[[str], None]) -> None:
        self.home = home
        self.say = say
        self.children: dict[str, Child] = {}
        self.procs: dict[str, subprocess.Popen] = {}
        self.services: dict[str, Service] = {}
        self.stopping = False
        self.log = _json_logger()

    # -- what is supervised -----------------------------------------------------------------
    def add_service(self, svc: Service) -> None:
        """An embedded server already running; ``svc.restart`` brings it back."""
        self.services[svc.name] = svc
        self.children[svc.name] = Child(svc.name, svc.restart, lambda: svc.process.pid if svc.alive() else None,
                                        lambda: svc.process.poll(), started_at=time.monotonic())

    def add_role(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        def start() -> None:
            # a group of its own (stops reach its workers) that dies with us (no orphans)
            self.procs[name] = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, start_new_session=True,
                                                preexec_fn=die_with_parent(signal.SIGTERM))

        def pid() -> int | None:
            proc = self.procs.get(name)
            return proc.pid if proc is not None and proc.poll() is None else None

        def returncode() -> int | None:
            proc = self.procs.get(name)
            return None if proc is None else proc.poll()

        start()
        self.children[name] = Child(name, start, pid, returncode, started_at=time.monotonic())
        self.say(f"started {name} (pid {self.procs[name].pid})")

    def publish(self) -> None:
        supervision.write_counts(self.home, {c.name: c.restarts for c in self.children.values()})

    # -- the loop ---------------------------------------------------------------------------
    def check(self) -> None:
        """Notice dead children and start those whose backoff is over; call it about once a second."""
        if self.stopping:
            return
        for child in self.children.values():
            now = time.monotonic()  # per child: restarting the one before may have taken seconds
            code = child.returncode()
            if code is None:
                if child.due is None and child.failures and now - child.started_at > STABLE_AFTER_S:
                    child.failures = 0
                continue
            if child.due is None:
                self._died(child, code, now)
            if child.due is not None and now >= child.due:
                self._restart(child)

    def _died(self, child: Child, code: int, now: float) -> None:
        if code == FATAL_EXIT and child.name not in self.services:
            raise RuntimeError(f"{child.name} cannot start (exit {code}); see its log above")
        proc = self.procs.get(child.name)
        if proc is not None:
            signal_group(proc.pid, signal.SIGTERM)  # what it left behind: its port and queues must be free
        if now - child.started_at > STABLE_AFTER_S:
            child.failures = 0
        backoff = min(BACKOFF_BASE_S * 2 ** child.failures, BACKOFF_CAP_S)
        child.failures += 1
        child.due = now + backoff
        self.log.warning("child died; restarting after backoff", extra={
            "role": child.name, "exit_code": code, "signal": _signal_name(code),
            "restarts": child.restarts, "backoff_s": backoff, "uptime_s": round(now - child.started_at, 1)})

    def _restart(self, child: Child) -> None:
        started = time.monotonic()
        try:
            child.start()
        except Exception as exc:  # e.g. PostgreSQL still finds its old server: try again later
            backoff = min(BACKOFF_BASE_S * 2 ** child.failures, BACKOFF_CAP_S)
            child.failures += 1
            child.due = time.monotonic() + backoff
            self.log.error("restart failed; trying again after backoff", extra={
                "role": child.name, "error_type": type(exc).__name__, "backoff_s": backoff})
            return
        child.due = None
        child.started_at = time.monotonic()
        child.restarts += 1
        self.publish()
        self.log.warning("child restarted", extra={
            "role": child.name, "pid": child.pid(), "restarts": child.restarts,
            "start_s": round(child.started_at - started, 2)})

    # -- the end ----------------------------------------------------------------------------
    def stop(self, timeout: float = 30) -> None:
        """Roles first (newest first), each whole process group, then the data services."""
        self.stopping = True
        for name in reversed(list(self.procs)):
            if self.procs[name].poll() is None:
                signal_group(self.procs[name].pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        for proc in self.procs.values():  # anything of a group whose leader exited first
            signal_group(proc.pid, signal.SIGKILL)
        for svc in reversed(list(self.services.values())):
            svc.stop()
        try:
            supervision.counts_path(self.home).unlink()
        except OSError:
            pass



def _signal_name(code: int) -> str | None:
    try:
        return signal.Signals(-code).name if code < 0 else None
    except ValueError:
        return str(-code)
