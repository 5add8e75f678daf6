"""The Flask application factory."""
from __future__ import annotations

import time

from flask import Flask, g, request
from flask_limiter import Limiter

from api import errors
from api.metrics import LATENCY, REQUESTS
from api.stream_hub import StreamHub
from mindq import runtime
from mindq.config import Settings


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
    settings = settings or runtime.settings()
    app = Flask("mindq")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        MINDQ_MAX_TEXT_CHARS=settings.max_text_chars,
        MINDQ_SSE_HEARTBEAT=settings.sse_heartbeat,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False
    errors.install(app)

    limiter = Limiter(_rate_key, app=app, storage_uri=settings.redis_url or "memory://",
                      strategy="fixed-window", default_limits=[], headers_enabled=True,
                      swallow_errors=True)  # a Redis hiccup must not turn into refused jobs

    from api import events, jobs, meta, ui

    limiter.limit(settings.rate_limit, methods=["POST"])(jobs.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(meta.bp)
    app.register_blueprint(ui.bp)
    app.extensions["mindq_hub"] = StreamHub(settings.redis_url or "redis://127.0.0.1:6379/0")

    @app.before_request
    def _start_timer():
        g.started = time.perf_counter()

    @app.after_request
    def _observe(resp):
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(request.method, endpoint, resp.status_code).inc()
        LATENCY.labels(request.method, endpoint).observe(time.perf_counter() - g.get("started", time.perf_counter()))
        if resp.status_code != 429:
            resp.headers.pop("Retry-After", None)  # the limiter adds it even to accepted requests
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    return app
