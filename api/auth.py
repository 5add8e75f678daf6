"""Bearer API keys → Principal, with a short in-process cache so a request costs no query."""
from __future__ import annotations

import threading
import time

from flask import g, request

from api.errors import ApiError
from jobstore import tenants
from jobstore.tenants import Principal
from mindq import runtime

CACHE_TTL_S = 30.0  # a revoked key stops working within this long
_cache: dict[str, tuple[float, Principal | None]] = {}
_lock = threading.Lock()


def _lookup(key: str) -> Principal | None:
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
        raise ApiError(401, "UNAUTHENTICATED", "Send your API key as 'Authorization: Bearer <key>'.",
                       headers={"WWW-Authenticate": "Bearer"})
    principal = _lookup(key.strip())
    if principal is None:
        raise ApiError(401, "INVALID_API_KEY", "The API key is unknown or revoked.",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    g.principal = principal
    return principal


def require(scope: str) -> Principal:
    principal = getattr(g, "principal", None) or authenticate()
    if scope not in principal.scopes and "admin" not in principal.scopes:
        raise ApiError(403, "FORBIDDEN", f"This API key lacks the '{scope}' scope.", {"scope": scope})
    return principal
