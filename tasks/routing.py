"""Which queue a job goes to, from its type and priority.

``cpu``: PHI scrubbing, forecasting, housekeeping. ``llm.interactive`` / ``llm.batch``: model
inference; gpu workers consume interactive first (see the priority queue order in app.py).
"""
from __future__ import annotations

CPU_QUEUE = "cpu"
LLM_INTERACTIVE = "llm.interactive"
LLM_BATCH = "llm.batch"
QUEUES = (CPU_QUEUE, LLM_INTERACTIVE, LLM_BATCH)
PRIORITIES = ("interactive", "batch")


def queue_for(kind: str, priority: str) -> str:
    """``kind`` is the job type's worker kind: "cpu" or "llm"."""
    if kind == "cpu":
        return CPU_QUEUE
    return LLM_BATCH if priority == "batch" else LLM_INTERACTIVE
