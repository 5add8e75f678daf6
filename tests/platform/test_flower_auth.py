"""The flower role (`mindq flower`, the production line): every page behind its basic auth,
/metrics and /healthcheck included, and no response names Tornado or its version."""
from __future__ import annotations

import sys

import httpx
import pytest
import tornado

from mindq.embedded import free_port
from tests.platform.conftest import Proc, wait_until

PASSWORD = "flower-test-password"


@pytest.fixture(scope="module")
def flower(proc_env, log_dir):
    port = free_port()
    env = {**proc_env, "MINDQ_FLOWER_PORT": str(port), "MINDQ_FLOWER_PASSWORD": PASSWORD,
           "MINDQ_API_HOST": "127.0.0.1"}
    proc = Proc("flower", [sys.executable, "-m", "mindq.cli", "flower"], env, log_dir)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.popen.poll() is None, proc.log_text()[-3000:]
        try:
            httpx.get(url + "/healthcheck", timeout=1)
            return True
        except httpx.HTTPError:
            return False

    wait_until(up, 60, what="flower")
    yield url
    proc.stop()


@pytest.mark.parametrize("path", ["/metrics", "/healthcheck", "/api/workers", "/"])
def test_every_page_needs_the_password(flower, path):
    assert httpx.get(flower + path, timeout=10).status_code == 401
    assert httpx.get(flower + path, auth=("mindq", "wrong"), timeout=10).status_code == 401
    assert httpx.get(flower + path, auth=("mindq", PASSWORD), timeout=10).status_code == 200


def test_metrics_and_healthcheck_answer_the_operator(flower):
    metrics = httpx.get(flower + "/metrics", auth=("mindq", PASSWORD), timeout=10)
    assert "flower_events_total" in metrics.text or "# HELP" in metrics.text
    assert httpx.get(flower + "/healthcheck", auth=("mindq", PASSWORD), timeout=10).text == "OK"


@pytest.mark.parametrize("path,auth", [("/metrics", None), ("/healthcheck", ("mindq", PASSWORD)),
                                       ("/no-such-page", ("mindq", PASSWORD)), ("/", ("mindq", PASSWORD)),
                                       ("/static/favicon.ico", None)])
def test_no_response_names_the_server_software(flower, path, auth):
    resp = httpx.get(flower + path, auth=auth, timeout=10)
    assert "server" not in resp.headers, resp.headers.get("server")
    assert f"TornadoServer/{tornado.version}" not in resp.text
