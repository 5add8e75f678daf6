"""/v1/models: the registered model versions, their state and the backtests they were judged on."""
from __future__ import annotations

from flask import Blueprint, jsonify

from api import auth
from api.errors import ApiError
from core.errors import ErrorCode
from jobstore import runtime
from jobstore.model_registry import versions

bp = Blueprint("models", __name__)
SCOPE = "jobs:read"


def _version(row: dict, backtest: bool) -> dict:
    out = {"version": row["version"], "state": row["state"], "created_at": row["created_at"].isoformat(),
           "artefact_hash": row["artefact_hash"]}
    if backtest:
        metrics = row["metrics"] or {}
        out["backtest"] = row["backtest"]
        out["promotion"] = metrics.get("promotion")
        out["metrics"] = {k: v for k, v in metrics.items() if k not in ("backtest", "promotion")}
    return out


@bp.get("/v1/models")
def list_models():
    auth.require(SCOPE)
    models: dict[str, dict] = {}
    for row in versions(runtime.db()):
        m = models.setdefault(row["name"], {"name": row["name"], "active_version": None, "versions": []})
        if row["state"] == "active":
            m["active_version"] = row["version"]
        m["versions"].append(_version(row, backtest=False))
    return jsonify({"models": list(models.values())})


@bp.get("/v1/models/<name>/performance")
def performance(name: str):
    auth.require(SCOPE)
    rows = versions(runtime.db(), name)
    if not rows:
        raise ApiError(404, ErrorCode.NOT_FOUND, "No such model.")  # never echo what the client sent
    active = next((r["version"] for r in rows if r["state"] == "active"), None)
    return jsonify({"name": name, "active_version": active, "versions": [_version(r, backtest=True) for r in rows]})
