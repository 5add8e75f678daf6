"""Bearer API keys → Principal, with a short in-process cache so a request costs no query.

Revocation reaches the cache at once: each process listens on Redis for revoked key prefixes
(`mindq tenant revoke` announces them). While that subscription is down, an entry still lives
at most CACHE_TTL_S, and the whole cache is dropped when the subscription comes back, since
announcements may have been missed meanwhile.
"""
from __future__ import annotations

import logging
import threading
import time

import redis
from flask import g, request

from api.errors import ApiError
from core import config
from core.errors import ErrorCode
from jobstore import runtime, tenants
from jobstore.tenants import Principal

CACHE_TTL_S = 30.0  # without the revocation feed, a revoked key stops working within this long
_cache: dict[str, tuple[float, Principal | None]] = {}
_lock = threading.Lock()
_listener: threading.Thread | None = None
log = logging.getLogger("mindq.auth")


def forget(prefix: str | None = None) -> None:
    """Drop cached answers for keys with this prefix (all of them without one)."""
    with _lock:
        if prefix is None:
            _cache.clear()
            return
        for key in [k for k in _cache if tenants.key_prefix(k) == prefix]:
            del _cache[key]


def _listen(redis_url: str) -> None:
    connected = True  # so the first failure is logged, and then once per outage
    while True:
        client = redis.Redis.from_url(redis_url, socket_keepalive=True)
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(tenants.REVOCATIONS)
            connected = True
            forget()  # anything announced while we were not subscribed
            for message in pubsub.listen():
                forget(message["data"].decode())
        except Exception as exc:
            if connected:
                log.warning("revocation feed lost; retrying", extra={"error_type": type(exc).__name__})
            connected = False
            time.sleep(1.0)
        finally:
            client.close()


def _ensure_listener() -> None:
    global _listener
    if _listener is not None:
        return
    url = config.settings().redis_url
    if url:
        with _lock:
            if _listener is None:
                _listener = threading.Thread(target=_listen, args=(url,), daemon=True, name="auth-revocations")
                _listener.start()


def _lookup(key: str) -> Principal | None:
    _ensure_listener()
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit and hit[0] > now:
        return hit[1]
    principal = tenants.authenticate(runtime.db(), key)
    with _lock:
        if len(_cache) > 10000:
            _cache.clear()
        _cache[key] = (now + CACHE_TTL_S, principal)
    return principal


def authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, ErrorCode.UNAUTHENTICATED, "Send your API key as 'Authorization: Bearer <key>'.",
                       headers={"WWW-Authenticate": "Bearer"})
    principal = _lookup(key.strip())
    if principal is None:
        raise ApiError(401, ErrorCode.INVALID_API_KEY, "The API key is unknown or revoked.",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    g.principal = principal
    return principal


def require(scope: str) -> Principal:
    principal = getattr(g, "principal", None) or authenticate()
    if scope not in principal.scopes and "admin" not in principal.scopes:
        raise ApiError(403, ErrorCode.FORBIDDEN, f"This API key lacks the '{scope}' scope.", {"scope": scope})
    return principal
