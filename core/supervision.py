"""The supervisor's restart counts, as the API's /metrics reads them.

``mindq up`` (the only writer) keeps them in one small JSON file under ``$MINDQ_HOME/run/``,
replaced whole by rename so a reader never sees half of it. A file rather than Redis or the
database: Redis and PostgreSQL are among the children it restarts, so a count published there
would be lost exactly when it matters, and every process of an embedded stack shares MINDQ_HOME
by construction. Under docker compose the restart policies do the supervising, and docker's own
restart count is the figure to watch.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


def counts_path(home: Path) -> Path:
    return home / "run" / "supervisor.json"


def write_counts(home: Path, restarts: dict[str, int]) -> None:
    path = counts_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"restarts": restarts}))
    tmp.replace(path)


def read_counts(home: Path) -> dict[str, int]:
    """Restarts per role; empty when no supervisor runs here (compose, tests)."""
    try:
        data = json.loads(counts_path(home).read_text())
        return {str(k): int(v) for k, v in data.get("restarts", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}
