"""Small value helpers the job services share."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def body_hash(body: Any) -> str:
    """What an Idempotency-Key is bound to: the canonical JSON of the request body."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
