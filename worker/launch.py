"""Starting worker processes: ``mindq worker cpu`` and ``mindq worker gpu --gpus all|0,1``.

GPU workers: one Celery process per GPU, pinned with CUDA_VISIBLE_DEVICES set in the child's
environment before it starts, so no parent ever initialises CUDA before a fork. Each runs a
``threads`` pool whose task threads hand requests to the one in-process engine, which batches
them. Without a GPU, one such process runs on the CPU.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from core.config import Settings
from core.procs import die_with_parent
from llm.gpu import pin_env, visible_gpus
from tasks.routing import CPU_QUEUE, LLM_BATCH, LLM_INTERACTIVE


def celery_worker_cmd(name: str, queues: list[str], pool: str, concurrency: int, prefetch: int = 1) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "worker.main", "worker", "-Q", ",".join(queues),
            "-P", pool, "-c", str(concurrency), "--prefetch-multiplier", str(prefetch), "-n", f"{name}@%h",
            "--without-gossip", "--without-mingle", "-E", "--loglevel", "INFO"]


def cpu_worker(settings: Settings) -> list[str]:
    # cpu jobs take milliseconds: with one message per process, each process idled through the
    # ack and the next fetch after every job; a few reserved ones keep it busy
    return celery_worker_cmd("cpu", [CPU_QUEUE], "prefork", os.cpu_count() or 2, settings.cpu_prefetch)


def gpu_worker_cmds(settings: Settings) -> list[tuple[dict[str, str], list[str]]]:
    gpus = visible_gpus(settings.gpus)
    # task threads: enough to keep the engine's batch full, plus a few waiting at the door
    threads = settings.model.max_batch + 4
    cmd = lambda name: celery_worker_cmd(name, [LLM_INTERACTIVE, LLM_BATCH], "threads", threads)
    if not gpus:
        return [({**pin_env(None, {}), "MINDQ_WORKER_KIND": "gpu"}, cmd("llm-cpu"))]
    return [({**pin_env(g, {}), "MINDQ_WORKER_KIND": "gpu"}, cmd(f"gpu{g}")) for g in gpus]


FATAL_EXIT = 3  # worker.main's code for "cannot start" (model or artefact): restarting won't help
MAX_RESTARTS, RESTART_WINDOW_S = 5, 60.0


def supervise(specs: list[tuple[dict[str, str], list[str]]]) -> int:
    """Run each worker process and restart one that dies (a Celery worker can exit on a broker
    outage, e.g. kombu failing to restore unacked messages after a Redis restart: its jobs are
    safe, leases and the reconciler cover them, but the GPU must not sit idle). Stops on SIGTERM
    or SIGINT, on a child's start failure, or after too many restarts in a short time."""
    # die_with_parent: a kill -9 of this supervisor must not leave its Celery workers running
    procs = [subprocess.Popen(cmd, env={**os.environ, **extra}, preexec_fn=die_with_parent())
             for extra, cmd in specs]
    restarts: list[list[float]] = [[] for _ in specs]
    stopping = False

    def _stop(signum, _frame):
        nonlocal stopping
        stopping = True
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stopping:
        time.sleep(0.5)
        for i, p in enumerate(procs):
            code = p.poll()
            if code is None or stopping:
                continue
            now = time.monotonic()
            restarts[i] = [t for t in restarts[i] if now - t < RESTART_WINDOW_S] + [now]
            if code == FATAL_EXIT or len(restarts[i]) > MAX_RESTARTS:
                cmd = specs[i][1]
                print(f"mindq worker: {cmd[cmd.index('-n') + 1]} exited with {code}; giving up",
                      file=sys.stderr, flush=True)
                _stop(signal.SIGTERM, None)
                for q in procs:
                    q.wait()
                return code or 1
            print(f"mindq worker: process {p.pid} exited with {code}; restarting", file=sys.stderr, flush=True)
            extra, cmd = specs[i]
            procs[i] = subprocess.Popen(cmd, env={**os.environ, **extra}, preexec_fn=die_with_parent())
    codes = [p.wait() for p in procs]
    return next((c for c in codes if c and c > 0), 0)


def run_cpu(settings: Settings) -> int:
    return supervise([({"MINDQ_WORKER_KIND": "cpu"}, cpu_worker(settings))])


def run_gpu(settings: Settings) -> int:
    """One supervised worker per GPU (one on the CPU without a GPU)."""
    return supervise(gpu_worker_cmds(settings))
