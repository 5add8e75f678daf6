"""The web role's access log: one JSON object a line, whatever the client put in the path."""
from __future__ import annotations

import json

import httpx

from tests.platform.conftest import wait_until


def test_a_newline_in_the_path_cannot_forge_a_log_line(web_server, log_dir):
    forged = '{"forged":true,"status":200}'
    resp = httpx.get(f"{web_server}/v1/jobs/x%0A{forged}", timeout=10)
    assert resp.status_code in (401, 404)
    log = log_dir / "web.log"

    def access_lines() -> list[dict]:
        lines = [line for line in log.read_text(errors="replace").splitlines() if '"method"' in line]
        return [json.loads(line) for line in lines]  # every access line is whole JSON

    found = wait_until(lambda: [a for a in access_lines() if "forged" in (a.get("path") or "")], 10,
                       what="the access line")
    assert found[0]["path"] == "/v1/jobs/x\n" + forged  # the newline travels escaped inside the field
    assert not any(line.startswith('{"forged"') for line in log.read_text().splitlines())
