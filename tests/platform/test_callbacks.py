"""callback_url: a signed POST with ids and state only, retried until the receiver accepts."""
from __future__ import annotations

import http.server
import json
import threading

from tasks.callbacks import sign
from tests.platform.conftest import wait_job, wait_until


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
    body, signature = received[0]
    assert len(attempts) >= 2
    assert signature == sign(body)
    payload = json.loads(body)
    assert payload["job_id"] == job["id"] and payload["state"] == "succeeded"
    assert b"555-777-8888" not in body and b"Secret" not in body
