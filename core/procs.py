"""Child processes that cannot outlive the process that started them.

A supervisor killed with SIGKILL runs no cleanup, so its children must be told by the kernel:
Linux's PR_SET_PDEATHSIG sends them a signal when their parent dies. Set in the child between
fork and exec (``preexec_fn``), it survives exec, but not a change of user: ``subprocess`` runs
``preexec_fn`` after it switches to ``user=``, so the order is right. Each child also leads its
own process group (``start_new_session``), so a stop reaches its own children too (gunicorn's
and Celery's workers) without touching the supervisor's terminal.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True) if sys.platform == "linux" else None


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A ``preexec_fn`` for Popen: the child gets ``sig`` when this process (the thread that
    spawns it, so spawn from a long-lived thread) dies, and stops at once if it already has."""
    parent = os.getpid()

    def _arm() -> None:
        if _libc is not None:
            _libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the prctl: nobody would tell us
            os.kill(os.getpid(), signal.SIGKILL)

    return _arm


def arm_in_process(sig: int = signal.SIGTERM) -> None:
    """PR_SET_PDEATHSIG for the calling process itself (a pool process forked by Celery)."""
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def signal_group(pid: int, sig: int) -> None:
    """``sig`` to the process group that ``pid`` leads (a child started with start_new_session)."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
