"""Tenants and their API keys. Only a SHA-256 of each key is stored.

Keys are ``mq_<prefix>_<secret>`` with 190+ bits of randomness, so a fast hash is enough (no
password stretching needed); the prefix finds the row, the hash is compared in constant time.
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from jobstore.tables import api_keys, audit_log, tenants

ALL_SCOPES = ("jobs:write", "jobs:read", "batches:write", "journals:write", "journals:read", "admin")
# what a new key gets unless more is asked for: least privilege, never admin by default
DEFAULT_SCOPES = ("jobs:write", "jobs:read", "batches:write")
# Redis channel on which a revoked key's prefix is announced, so web processes drop it from
# their authentication caches at once instead of when the cache entry expires
REVOCATIONS = "mindq:auth:revoked"


@dataclasses.dataclass(frozen=True)
class Principal:
    tenant_id: uuid.UUID
    tenant_name: str
    key_id: uuid.UUID
    scopes: tuple[str, ...]

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _split(key: str) -> str | None:
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "mq" or not parts[1]:
        return None
    return parts[1]


def new_key() -> str:
    return f"mq_{secrets.token_hex(4)}_{secrets.token_urlsafe(24)}"


def ensure_tenant(engine: sa.Engine, name: str) -> uuid.UUID:
    with engine.begin() as conn:
        conn.execute(insert(tenants).values(id=uuid.uuid4(), name=name)
                     .on_conflict_do_nothing(index_elements=["name"]))
        return conn.execute(sa.select(tenants.c.id).where(tenants.c.name == name)).scalar_one()


def find_tenant(engine: sa.Engine, name: str) -> uuid.UUID | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(tenants.c.id).where(tenants.c.name == name)).scalar_one_or_none()


class KeyRevoked(Exception):
    """The key was revoked: storing it again must not bring it back."""


def add_key(engine: sa.Engine, tenant_id: uuid.UUID, key: str | None = None,
            scopes: tuple[str, ...] = DEFAULT_SCOPES) -> str:
    """Store a key (a given one, e.g. MINDQ_BOOTSTRAP_KEY, or a fresh one); returns it. A key
    stored before is updated in place; a revoked one raises KeyRevoked and stays revoked."""
    key = key or new_key()
    prefix = _split(key)
    if prefix is None:
        raise ValueError("API keys look like mq_<prefix>_<secret>")
    with engine.begin() as conn:
        stored = conn.execute(insert(api_keys).values(id=uuid.uuid4(), tenant_id=tenant_id, prefix=prefix,
                                                      key_hash=_hash(key), scopes=list(scopes))
                              .on_conflict_do_update(index_elements=["prefix"],
                                                     set_=dict(key_hash=_hash(key), scopes=list(scopes),
                                                               tenant_id=tenant_id),
                                                     where=api_keys.c.revoked_at.is_(None))
                              .returning(api_keys.c.id)).first()
    if stored is None:
        raise KeyRevoked(prefix)
    return key


def authenticate(engine: sa.Engine, key: str) -> Principal | None:
    prefix = _split(key)
    if prefix is None:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(api_keys.c.id, api_keys.c.key_hash, api_keys.c.scopes, api_keys.c.revoked_at,
                      tenants.c.id.label("tenant_id"), tenants.c.name)
            .join(tenants, tenants.c.id == api_keys.c.tenant_id)
            .where(api_keys.c.prefix == prefix)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(bytes(row.key_hash), _hash(key)):
        return None
    return Principal(row.tenant_id, row.name, row.id, tuple(row.scopes))


def key_prefix(key_or_prefix: str) -> str:
    """The public part of a key: from a whole key (mq_<prefix>_<secret>) or given as is."""
    return _split(key_or_prefix) or key_or_prefix


def revoke_key(engine: sa.Engine, key_or_prefix: str, *, actor: str) -> uuid.UUID | None:
    """Revoke a live key (by the key or its prefix); returns its tenant, None if no live key."""
    prefix = key_prefix(key_or_prefix)
    with engine.begin() as conn:
        tenant_id = conn.execute(
            sa.update(api_keys).where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=sa.func.now()).returning(api_keys.c.tenant_id)).scalar()
        if tenant_id is not None:
            conn.execute(audit_log.insert().values(tenant_id=tenant_id, actor=actor, action="api_key.revoke",
                                                   details={"prefix": prefix}))
    return tenant_id
