"""The Flask application factory."""
from __future__ import annotations

import time

from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider

from api import errors
from api.metrics import LATENCY, REQUESTS
from api.ratelimit import RateLimit
from api.stream_hub import StreamHub
from core import config
from core.config import Settings
from core.errors import ErrorCode
from jobstore import runtime
from tasks.intake import Intake


def _rate_key() -> str:
    principal = getattr(g, "principal", None)
    if principal is None:
        from api import auth

        try:
            principal = auth.authenticate()
        except errors.ApiError:
            return f"ip:{request.remote_addr}"
    return f"tenant:{principal.tenant_id}"


def create_app(settings: Settings | None = None) -> Flask:
    """The API. Given ``settings``, the whole process uses them (its database, Redis and limits):
    a process serves one app, and every part reads its configuration from core.config."""
    if settings is not None:
        config.use(settings)
        runtime.reset_clients()
    settings = config.settings()
    if not settings.redis_url:
        raise runtime.NotConfigured("REDIS_URL is not set (start the stack with `mindq up`)")
    app = Flask("mindq")
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes)  # Flask enforces it itself
    if isinstance(app.json, DefaultJSONProvider):
        app.json.sort_keys = False
    errors.install(app)

    from api import events, jobs, journals, meta, models, ui
    from api.fhir import views as fhir_views

    limit = RateLimit(settings.rate_limit, runtime.redis_client())
    app.register_blueprint(jobs.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(meta.bp)
    app.register_blueprint(models.bp)
    app.register_blueprint(ui.bp)
    app.register_blueprint(journals.bp)
    app.register_blueprint(fhir_views.bp)
    app.extensions["mindq_intake"] = Intake(runtime.job_intake)
    app.extensions["mindq_hub"] = StreamHub(settings.redis_url)

    @app.before_request
    def _start_timer():
        g.started = time.perf_counter()

    @app.before_request
    def _rate_limit():
        # submissions only (jobs, batches and FHIR Tasks), counted per tenant
        if request.method != "POST" or request.blueprint not in ("jobs", "fhir"):
            return
        verdict = limit.hit(_rate_key())
        if verdict is None:
            return
        g.rate_limit = verdict
        if not verdict.allowed:
            raise errors.ApiError(429, ErrorCode.RATE_LIMITED, "Too many requests; slow down.",
                                  {"limit": limit.spec}, verdict.headers())

    @app.after_request
    def _observe(resp):
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(request.method, endpoint, resp.status_code).inc()
        LATENCY.labels(request.method, endpoint).observe(time.perf_counter() - g.get("started", time.perf_counter()))
        verdict = g.get("rate_limit")
        if verdict is not None and verdict.allowed:
            resp.headers.update(verdict.headers())
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    return app
