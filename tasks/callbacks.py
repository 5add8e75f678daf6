"""Job-finished callbacks: a signed POST to the job's ``callback_url`` once it is terminal.

The body carries ids and the state only, never text or results: the receiver fetches the result
with its API key. ``X-Mindq-Signature: sha256=<hex HMAC of the body>`` lets it check the sender
(the key is ``MINDQ_CALLBACK_SECRET``, or one derived from the encryption key). Failures retry
with exponential backoff, up to about an hour.

A callback URL is the one place a client makes our servers send a request, so it must not reach
what only they can reach: hosts in MINDQ_CALLBACK_BLOCKED_NETWORKS (loopback, link-local with
the cloud metadata service, ...) are refused by the API when written as an IP, and checked
again on every delivery after DNS resolution; redirects are never followed. A name that
resolves differently between the check and the connection (DNS rebinding) is not covered.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass

from core import config
from jobstore import runtime
from jobstore.tables import TERMINAL_STATES
from tasks.app import app

log = logging.getLogger("mindq.callbacks")


def signing_key() -> bytes:
    s = config.settings()
    if s.callback_secret:
        return s.callback_secret.encode()
    from jobstore.runtime import encryption_keys

    return hashlib.sha256(b"mindq-callback:" + encryption_keys(s)[0].encode()).digest()


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(signing_key(), body, hashlib.sha256).hexdigest()


def blocked_reason(url: str, *, resolve: bool, networks: Iterable[str] | None = None) -> str | None:
    """Why a callback must not go to ``url`` (None when it may). Without ``resolve`` only an IP
    literal or ``localhost`` is judged: the API answers without waiting on DNS. ``networks``
    defaults to MINDQ_CALLBACK_BLOCKED_NETWORKS."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if networks is None:
        networks = config.settings().callback_blocked_networks
    blocked = [ipaddress.ip_network(n) for n in networks]
    addresses: set[ipaddress.IPv4Address | ipaddress.IPv6Address]
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        if not resolve:
            return "the host is this server itself" if host == "localhost" and blocked else None
        try:
            addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0])
                         for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
        except (OSError, ValueError):
            return None  # unresolvable now: the delivery fails and retries like any network error
    for address in {a for given in addresses for a in _as_written_and_embedded(given)}:
        for network in blocked:
            if address.version == network.version and address in network:
                return f"the host is in the blocked network {network}"
    return None


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _as_written_and_embedded(address: Address) -> tuple[Address, ...]:
    """The address, and the IPv4 address an IPv6 one carries: IPv4-mapped (::ffff:127.0.0.1)
    and IPv4-compatible (::127.0.0.1) addresses reach that IPv4 host, so they are judged as it."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address, address.ipv4_mapped
        if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d, not :: or ::1
            return address, ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return (address,)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx comes back as an HTTPError: a redirect could point anywhere


_opener = urllib.request.build_opener(_NoRedirects)


def schedule(job: dict) -> None:
    """Queue the callback of a job that just became terminal (no-op without a callback_url).
    Raises what sending raised."""
    if job.get("callback_url"):
        app.send_task("mindq.callback", args=[str(job["id"])], queue="cpu")


def notify(job: dict) -> None:
    """``schedule`` for a job whose terminal state is already stored: a lost callback must not
    undo or fail the job, so a failure to send is logged, not raised."""
    try:
        schedule(job)
    except Exception as exc:
        log.warning("callback not scheduled", extra={"job_id": str(job["id"]), "error_type": type(exc).__name__})


class DeliveryFailed(Exception):
    """A callback that may succeed later (network error, a non-2xx answer): retry it. Its text
    is the status or the error's type, for the log."""


@dataclass(frozen=True)
class Delivery:
    """How a POST ended for good: "delivered", or "blocked" / "redirected" (permanent; redirects
    are not followed). ``detail`` is for the log: the blocking reason or the HTTP status, never
    the URL (it may carry a token)."""

    outcome: str
    detail: str


def post_signed(url: str, body: bytes) -> Delivery:
    """POST ``body`` to ``url`` with its signature; DeliveryFailed when worth retrying."""
    reason = blocked_reason(url, resolve=True)
    if reason:
        return Delivery("blocked", reason)
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Mindq-Signature": sign(body), "User-Agent": "mindq-callback/1"})
    try:
        with _opener.open(req, timeout=10) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        if 300 <= status < 400:
            return Delivery("redirected", str(status))
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryFailed(type(exc).__name__) from None
    if status >= 300:
        raise DeliveryFailed(str(status))
    return Delivery("delivered", str(status))


@app.task(name="mindq.callback", bind=True, max_retries=12, ignore_result=True)
def deliver(self, job_id: str) -> str:
    job = runtime.job_reads().get(job_id)
    if job is None or not job.get("callback_url") or job["state"] not in TERMINAL_STATES:
        return "skipped"
    body = json.dumps({"job_id": job_id, "state": job["state"], "type": job["type"],
                       "finished_at": job["finished_at"].isoformat() if job["finished_at"] else None,
                       "links": {"self": f"/v1/jobs/{job_id}"}}, separators=(",", ":")).encode()
    try:
        sent = post_signed(job["callback_url"], body)
    except DeliveryFailed as exc:
        log.warning("callback failed; retried", extra={"job_id": job_id, "error": str(exc)})
        raise self.retry(countdown=min(2 ** self.request.retries, 600)) from None
    level = logging.INFO if sent.outcome == "delivered" else logging.WARNING
    log.log(level, f"callback {sent.outcome}", extra={"job_id": job_id, "detail": sent.detail})
    return sent.outcome

