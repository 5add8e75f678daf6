"""callback_url: a signed POST with ids and state only, retried until the receiver accepts."""
from __future__ import annotations

import http.server
import json
import threading
import time

import pytest

from core.config import DEFAULT_CALLBACK_BLOCKED
from tasks.callbacks import blocked_reason, sign
from tests.platform.conftest import wait_job, wait_until

DEFAULT = DEFAULT_CALLBACK_BLOCKED.split(",")


@pytest.mark.parametrize("url, blocked", [
    ("http://169.254.169.254/latest/meta-data/", True),  # the cloud metadata service
    ("http://[::1]:8080/hook", True),
    ("http://127.0.0.1:6379/", True),
    ("http://localhost:8000/hook", True),  # resolved: loopback
    ("https://10.20.0.5/emr/hook", False),  # a clinic's private network is where EMRs live
    ("https://192.168.1.20:8443/hook", False),
    ("http://93.184.216.34/hook", False),
    # an IPv6 spelling of a blocked IPv4 host reaches that host: judged as it
    ("http://[::ffff:127.0.0.1]:6379/", True),  # IPv4-mapped
    ("http://[::ffff:169.254.169.254]/latest/meta-data/", True),
    ("http://[::ffff:7f00:1]/", True),  # the same, in hex
    ("http://[::127.0.0.1]/", True),  # IPv4-compatible
    ("http://[::ffff:10.20.0.5]/emr/hook", False),  # mapped, but to a private network: allowed
])
def test_blocked_networks_are_judged_after_resolution(url, blocked):
    assert bool(blocked_reason(url, resolve=True, networks=DEFAULT)) is blocked
    if "[" in url:  # an IP literal is judged at submission too, before any DNS
        assert bool(blocked_reason(url, resolve=False, networks=DEFAULT)) is blocked


def test_the_api_refuses_a_blocked_literal_address_without_echoing_it(api):
    status, body, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "x",
                                               "callback_url": "http://169.254.169.254/latest/meta-data/"})
    assert status == 422 and body["error"]["code"] == "INVALID_CALLBACK_URL"
    assert "169.254.169.254" not in body["error"]["message"]


def test_redirects_are_not_followed(api, cpu_worker):
    attempts = []

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # a followed redirect would show up here or in do_GET
            attempts.append(self.path)
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _, job, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "redirect me",
                                             "callback_url": f"http://127.0.0.1:{server.server_port}/hook"})
        wait_job(api, job["id"])
        wait_until(lambda: attempts, 30, what="the callback")
        time.sleep(3)  # room for a followed redirect, or a retry, to arrive
    finally:
        server.shutdown()
        server.server_close()
    assert attempts == ["/hook"]


def test_callback_is_signed_carries_no_text_and_is_retried(api, cpu_worker):
    received, attempts = [], []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            attempts.append(body)
            if len(attempts) == 1:  # refuse the first delivery: it must come again
                self.send_response(503)
                self.end_headers()
                return
            received.append((body, self.headers["X-Mindq-Signature"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        _, job, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "Secret Sauce 555-777-8888",
                                             "callback_url": url})
        wait_job(api, job["id"])
        wait_until(lambda: received, 30, what="the callback")
    finally:
        server.shutdown()
        server.server_close()
    body, signature = received[0]
    assert len(attempts) >= 2
    assert signature == sign(body)
    payload = json.loads(body)
    assert payload["job_id"] == job["id"] and payload["state"] == "succeeded"
    assert b"555-777-8888" not in body and b"Secret" not in body
