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

from mindq.config import Settings
from tasks.routing import CPU_QUEUE, LLM_BATCH, LLM_INTERACTIVE
from worker.llm.gpu import pin_env, visible_gpus


def celery_worker_cmd(kind: str, name: str, queues: list[str], pool: str, concurrency: int) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "worker.main", "worker", "-Q", ",".join(queues),
            "-P", pool, "-c", str(concurrency), "-n", f"{name}@%h", "--without-gossip",
            "--without-mingle", "-E", "--loglevel", "INFO"]


def cpu_worker(settings: Settings, concurrency: int | None = None) -> list[str]:
    return celery_worker_cmd("cpu", "cpu", [CPU_QUEUE], "prefork", concurrency or (os.cpu_count() or 2))


def gpu_worker_cmds(settings: Settings) -> list[tuple[dict[str, str], list[str]]]:
    gpus = visible_gpus(settings.gpus)
    # task threads: enough to keep the engine's batch full, plus a few waiting at the door
    threads = settings.model.max_batch + 4
    cmd = lambda name: celery_worker_cmd("gpu", name, [LLM_INTERACTIVE, LLM_BATCH], "threads", threads)  # noqa: E731
    if not gpus:
        return [({**pin_env(None, {}), "MINDQ_WORKER_KIND": "gpu"}, cmd("llm-cpu"))]
    return [({**pin_env(g, {}), "MINDQ_WORKER_KIND": "gpu"}, cmd(f"gpu{g}")) for g in gpus]


def run_cpu(settings: Settings) -> int:
    os.environ["MINDQ_WORKER_KIND"] = "cpu"
    os.execv(sys.executable, cpu_worker(settings))
    return 0  # not reached


def run_gpu(settings: Settings) -> int:
    """Supervise one worker per GPU; stop all when asked or when one exits."""
    specs = gpu_worker_cmds(settings)
    if len(specs) == 1:
        extra, cmd = specs[0]
        os.environ.update(extra)
        os.execv(sys.executable, cmd)
    procs = [subprocess.Popen(cmd, env={**os.environ, **extra}) for extra, cmd in specs]

    def _forward(signum, _frame):
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    signal.signal(signal.SIGTERM, _forward)
    signal.signal(signal.SIGINT, _forward)
    while all(p.poll() is None for p in procs):
        time.sleep(0.5)
    _forward(signal.SIGTERM, None)
    codes = [p.wait() for p in procs]
    return next((c for c in codes if c), 0)
