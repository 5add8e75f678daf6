"""The model registry: which trained artefact version of each model is active."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from jobstore.tables import model_registry


def register(engine: sa.Engine, *, name: str, version: str, metrics: dict[str, Any], path: str,
             sha256: str, created_at: dt.datetime, activate: bool = True) -> None:
    with engine.begin() as conn:
        if activate:  # one active version per name (a partial unique index enforces it)
            conn.execute(sa.update(model_registry).where(model_registry.c.name == name).values(active=False))
        conn.execute(insert(model_registry).values(
            name=name, version=version, metrics=metrics, artefact_path=path, artefact_hash=sha256,
            created_at=created_at, active=activate).on_conflict_do_update(
            index_elements=["name", "version"], set_={"active": activate, "artefact_path": path}))


def active(engine: sa.Engine, name: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(model_registry).where(model_registry.c.name == name,
                                                           model_registry.c.active)).first()
    return dict(row._mapping) if row else None
