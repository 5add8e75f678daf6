"""Job-finished callbacks: a signed POST to the job's ``callback_url`` once it is terminal.

The body carries ids and the state only, never text or results: the receiver fetches the result
with its API key. ``X-Mindq-Signature: sha256=<hex HMAC of the body>`` lets it check the sender
(the key is ``MINDQ_CALLBACK_SECRET``, or one derived from the encryption key). Failures retry
with exponential backoff, up to about an hour.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request

from jobstore.tables import TERMINAL_STATES
from mindq import runtime
from tasks.app import app

log = logging.getLogger("mindq.callbacks")


def signing_key() -> bytes:
    s = runtime.settings()
    if s.callback_secret:
        return s.callback_secret.encode()
    from mindq.runtime import encryption_keys

    return hashlib.sha256(b"mindq-callback:" + encryption_keys(s)[0].encode()).digest()


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(signing_key(), body, hashlib.sha256).hexdigest()


def schedule(job: dict) -> None:
    """Queue the callback of a job that just became terminal (no-op without a callback_url)."""
    if job.get("callback_url"):
        app.send_task("mindq.callback", args=[str(job["id"])], queue="cpu")


@app.task(name="mindq.callback", bind=True, max_retries=12, ignore_result=True)
def deliver(self, job_id: str) -> str:
    job = runtime.job_service().get(job_id)
    if job is None or not job.get("callback_url") or job["state"] not in TERMINAL_STATES:
        return "skipped"
    body = json.dumps({"job_id": job_id, "state": job["state"], "type": job["type"],
                       "finished_at": job["finished_at"].isoformat() if job["finished_at"] else None,
                       "links": {"self": f"/v1/jobs/{job_id}"}}, separators=(",", ":")).encode()
    req = urllib.request.Request(job["callback_url"], data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Mindq-Signature": sign(body), "User-Agent": "mindq-callback/1"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        log.warning("callback failed", extra={"job_id": job_id, "error_type": type(exc).__name__})
        raise self.retry(countdown=min(2 ** self.request.retries, 600))
    if status >= 300:
        log.warning("callback refused", extra={"job_id": job_id, "status": status})
        raise self.retry(countdown=min(2 ** self.request.retries, 600))
    log.info("callback delivered", extra={"job_id": job_id, "status": status})
    return "delivered"
