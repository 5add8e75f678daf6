"""The model registry: every trained artefact version of each model, which one is active, and
the evidence it was judged on (``decision`` promoted | rejected, ``backtest`` table)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from jobstore.tables import model_registry

DECISIONS = ("promoted", "rejected")


def register(engine: sa.Engine, *, name: str, version: str, metrics: dict[str, Any], path: str,
             sha256: str, created_at: dt.datetime, activate: bool | None = None, decision: str = "promoted",
             backtest: list[dict[str, Any]] | None = None) -> None:
    """Record a version; a promoted one becomes the active version (``activate`` overrides)."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}")
    activate = decision == "promoted" if activate is None else activate
    with engine.begin() as conn:
        if activate:  # one active version per name (a partial unique index enforces it)
            conn.execute(sa.update(model_registry).where(model_registry.c.name == name).values(active=False))
        conn.execute(insert(model_registry).values(
            name=name, version=version, metrics=metrics, artefact_path=path, artefact_hash=sha256,
            created_at=created_at, active=activate, decision=decision, backtest=backtest or []
        ).on_conflict_do_update(index_elements=["name", "version"], set_={"active": activate, "artefact_path": path}))


def active(engine: sa.Engine, name: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(model_registry).where(model_registry.c.name == name,
                                                           model_registry.c.active)).first()
    return dict(row._mapping) if row else None


def active_version(engine: sa.Engine, name: str) -> tuple[str, str] | None:
    """(version, artefact_path) of the active version: the cheap query workers poll."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(model_registry.c.version, model_registry.c.artefact_path).where(
            model_registry.c.name == name, model_registry.c.active)).first()
    return (row.version, row.artefact_path) if row else None


def state(row: dict) -> str:
    """active | rejected | retired (promoted once, since replaced)."""
    return "active" if row["active"] else ("rejected" if row["decision"] == "rejected" else "retired")


def versions(engine: sa.Engine, name: str | None = None) -> list[dict]:
    """Every version (of ``name``, or of all models), newest first, with its state."""
    q = sa.select(model_registry).order_by(model_registry.c.name, model_registry.c.created_at.desc(),
                                           model_registry.c.version.desc())
    if name is not None:
        q = q.where(model_registry.c.name == name)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    for r in rows:
        r["state"] = state(r)
    return rows
