"""Health, metrics, the analysis-type catalogue, the OpenAPI document and its docs page."""
from __future__ import annotations

import hmac
import time

from flask import Blueprint, Response, jsonify, request

from api import auth, openapi
from api.metrics import render
from core import config
from jobstore import runtime
from tasks import provenance
from tasks.jobtypes import job_types
from tasks.routing import QUEUES

bp = Blueprint("meta", __name__)


@bp.get("/health/live")
def live():
    return jsonify({"status": "ok"})


@bp.get("/health/ready")
def ready():
    from jobstore.workers import live_workers

    checks: dict[str, dict] = {}
    t = time.perf_counter()
    try:
        with runtime.db().connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        checks["postgres"] = {"ok": True, "ms": round((time.perf_counter() - t) * 1000, 1)}
    except Exception as exc:
        checks["postgres"] = {"ok": False, "error": type(exc).__name__}
    t = time.perf_counter()
    workers: list[dict] = []
    try:
        r = runtime.redis_client()
        r.ping()
        checks["redis"] = {"ok": True, "ms": round((time.perf_counter() - t) * 1000, 1)}
        workers = live_workers(r)
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
    for q in QUEUES:
        serving = [w["hostname"] for w in workers if q in w.get("queues", [])]
        checks[f"queue:{q}"] = {"ok": bool(serving), "workers": serving}
    ok = all(c["ok"] for c in checks.values())
    body = {"status": "ready" if ok else "unavailable", "checks": checks,
            "workers": [{k: w.get(k) for k in ("hostname", "kind", "queues", "device", "model_id", "gpu_memory")
                         if k in w} for w in workers],
            # the configured model's card: a demo model says so here (not for clinical use)
            "model": {**provenance.served_card().public(), "model_id": _served_model_id()}}
    resp = jsonify(body)
    resp.status_code = 200 if ok else 503
    return resp


@bp.get("/metrics")
def metrics():
    _require_metrics_reader()
    data, content_type = render()
    return Response(data, content_type=content_type)


def _require_metrics_reader() -> None:
    """Platform-wide counts are not for every tenant: the scraper's MINDQ_METRICS_TOKEN, or an
    API key with the admin scope (401 without credentials, 403 for a key without admin)."""
    token = config.settings().metrics_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return
    auth.require("admin")


def _served_model_id() -> str | None:
    try:
        return provenance.served_model_id()
    except OSError:  # no model files where configured: the gpu workers will say why
        return None


@bp.get("/v1/analysis-types")
def analysis_types():
    card = provenance.served_card()
    out = []
    for t in job_types().values():
        entry = {"name": t.name, "kind": t.kind, "input": t.input, "description": t.description,
                 "version": t.version, "labels": list(t.labels)}
        if t.kind == "llm":
            # whether the served model was trained for this type (a demo model answers only some)
            entry["model_kind"] = card.kind
            entry["model_trained_for_type"] = card.trained_for(t.name)
        out.append(entry)
    return jsonify({"analysis_types": out, "model": card.public()})


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi.spec())


@bp.get("/docs")
def docs():
    return Response(openapi.docs_html(), mimetype="text/html")
