"""Canary identifiers submitted through the API appear in no store: not Redis (every key,
Celery messages decoded), not PostgreSQL (every table as text), not the results, not any log."""
from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import uuid
from pathlib import Path

import sqlalchemy as sa

from jobstore import runtime
from tests.platform.conftest import read_sse, wait_job

_RAND = uuid.uuid4().int
TAG = "".join(chr(ord("a") + (_RAND >> (4 * i)) % 16) for i in range(6))  # letters only: a name
CANARIES = {
    "name": f"Quillon{TAG.capitalize()}",
    "email": f"quillon.{TAG.lower()}@example.org",
    "phone": "(617) 555-0148",
    "ssn": "512-73-4418",
    "mrn": f"88{_RAND % 10**6:06d}",
    "patient_ref": f"PT-CANARY-{TAG.upper()}",
}
NOTE = (f"Patient Mr. {CANARIES['name']} (MRN: {CANARIES['mrn']}, SSN {CANARIES['ssn']}) wrote from "
        f"{CANARIES['email']} and asked us to call {CANARIES['phone']}. He feels hopeless and cannot sleep.")


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(json.dumps({**record.__dict__, "msg": record.getMessage()}, default=str))


def _expand(blob: bytes) -> list[bytes]:
    """The blob plus every base64 run inside it decoded (Celery message bodies are base64)."""
    out = [blob]
    for run in re.findall(rb"[A-Za-z0-9+/=]{16,}", blob):
        try:
            out.append(base64.b64decode(run + b"=" * (-len(run) % 4)))
        except (binascii.Error, ValueError):
            pass
    return out


def _needles() -> list[bytes]:
    needles = []
    for value in CANARIES.values():
        needles += [value.encode(), value.lower().encode(), value.encode().hex().encode()]
    needles.append(CANARIES["phone"].replace("(", "").replace(")", "").replace(" ", "-").encode())
    return needles


def _leaks(where: str, blob: bytes) -> list[str]:
    found = []
    for part in _expand(blob):
        low = part.lower()
        found += [f"{where}: {n!r}" for n in _needles() if n.lower() in low]
    return found


def _redis_dump() -> list[tuple[str, bytes]]:
    r = runtime.redis_client()
    out = []
    for key in r.scan_iter(count=1000):
        kind = r.type(key).decode()
        if kind == "string":
            parts = [r.get(key) or b""]
        elif kind == "list":
            parts = r.lrange(key, 0, -1)
        elif kind == "hash":
            parts = [k + b"=" + v for k, v in r.hgetall(key).items()]
        elif kind == "set":
            parts = list(r.smembers(key))
        elif kind == "zset":
            parts = r.zrange(key, 0, -1)
        elif kind == "stream":
            parts = [json.dumps({k.decode(): v.decode() for k, v in f.items()}).encode() for _, f in r.xrange(key)]
        else:
            parts = []
        out.append((key.decode(errors="replace"), key + b" " + b"\n".join(parts)))
    return out


def _postgres_dump() -> list[tuple[str, bytes]]:
    out = []
    with runtime.db().connect() as conn:
        tables = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        for table in tables:
            rows = conn.execute(sa.text(f'SELECT t::text FROM "{table}" t')).scalars().all()
            out.append((table, "\n".join(rows).encode()))
    return out


def test_canaries_appear_in_no_store(api, keys, cpu_worker, llm_worker, web_server, log_dir, services):
    assert len(_postgres_dump()) >= 6
    collect = _Collect()
    logging.getLogger().addHandler(collect)
    try:
        ids = []
        for job_type in ("scrub", "depression", "risk", "imhi.dr"):
            options = {} if job_type == "scrub" else {"max_new_tokens": 16}
            status, job, _ = api("POST", "/v1/jobs", {"type": job_type, "text": NOTE, "options": options,
                                                      "patient_ref": CANARIES["patient_ref"]})
            assert status == 202
            ids.append(job["id"])
        status, batch, _ = api("POST", "/v1/batches", {"type": "scrub", "items": [
            {"text": NOTE, "patient_ref": CANARIES["patient_ref"]}]})
        ids += batch["jobs"]
        status, _, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": 123, "patient_ref": CANARIES["patient_ref"]})
        assert status == 422
        results = []
        for job_id in ids:
            done = wait_job(api, job_id, timeout=180)
            assert done["state"] == "succeeded", done
            results.append(json.dumps(done).encode())
            read_sse(f"{web_server}/v1/jobs/{job_id}/events", keys["clinic-a"])
    finally:
        logging.getLogger().removeHandler(collect)

    # the scrub result is where masking shows: every identifier replaced by its kind
    scrubbed = json.loads(results[0])["result"]["text"]
    for kind in ("[NAME]", "[PHONE]", "[EMAIL]", "[SSN]"):
        assert kind in scrubbed, scrubbed

    # the scanner itself finds a planted canary, in clear and inside a base64 Celery body
    assert _leaks("self-check", NOTE.encode()) and _leaks("self-check", base64.b64encode(NOTE.encode()))
    leaks = []
    for i, blob in enumerate(results):
        leaks += _leaks(f"result {ids[i]}", blob)
    for key, blob in _redis_dump():
        leaks += _leaks(f"redis {key}", blob)
    for table, blob in _postgres_dump():
        leaks += _leaks(f"postgres {table}", blob)
    for path in list(log_dir.glob("*.log")) + list(Path(services["dir"]).rglob("*.log")):
        leaks += _leaks(f"log {path.name}", path.read_bytes())
    leaks += _leaks("in-process logs", "\n".join(collect.lines).encode())
    assert not leaks, "\n".join(leaks[:20])
    # and the data really is there, encrypted: the scan looked at the right places
    assert any(b"gAAAAA" in blob for _, blob in _postgres_dump()) or any(
        b"\\x674141414141" in blob for _, blob in _postgres_dump())
