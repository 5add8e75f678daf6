"""GPU pinning helpers. Nothing here touches CUDA at import: a parent process that forks one
worker per GPU must not initialise CUDA before the fork."""
from __future__ import annotations

import os
import subprocess
from typing import Any


def visible_gpus(spec: str = "auto") -> list[str]:
    """GPU ids to start one worker for: ``"all"``/``"auto"`` (every GPU found, none when there is
    no GPU) or an explicit list such as ``"0,1"``."""
    spec = (spec or "auto").strip().lower()
    if spec in {"all", "auto"}:
        inherited = os.environ.get("CUDA_VISIBLE_DEVICES")
        if inherited is not None:  # already restricted: pin within that set, by its own ids
            return [v.strip() for v in inherited.split(",") if v.strip()]
        return [str(i) for i in range(_count_gpus())]
    if spec in {"none", "cpu", ""}:
        return []
    ids = [s.strip() for s in spec.split(",") if s.strip()]
    for gpu in ids:
        if not gpu.isdigit() and not gpu.startswith(("GPU-", "MIG-")):
            raise ValueError(f"MINDQ_GPUS={spec!r}: expected all, auto or a list like 0,1")
    return ids


def pin_env(gpu_id: str | int | None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a child worker process pinned to one GPU (or to none: CPU)."""
    env = dict(os.environ if base is None else base)
    env["CUDA_VISIBLE_DEVICES"] = "" if gpu_id is None else str(gpu_id)
    env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"  # ids match nvidia-smi's
    return env


def device_report(device: str | None = None) -> dict[str, Any]:
    """Device, its name and memory (bytes) for health and metrics; ``{"device": "cpu"}`` without
    CUDA. Initialises CUDA: call it in a worker after pinning, never in the parent."""
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if not str(device).startswith("cuda") or not torch.cuda.is_available():
        return {"device": "cpu"}
    index = torch.device(device).index or 0
    free, total = torch.cuda.mem_get_info(index)
    return {
        "device": f"cuda:{index}",
        "name": torch.cuda.get_device_name(index),
        "visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "memory_used": total - free,
        "memory_total": total,
        "memory_allocated": torch.cuda.memory_allocated(index),
    }


def _count_gpus() -> int:
    """Count GPUs without initialising CUDA in this process (asks nvidia-smi)."""
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    if out.returncode != 0:
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))
