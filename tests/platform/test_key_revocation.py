"""Revoking an API key with `mindq tenant revoke` takes effect at once in a running web process,
although that process caches authentication answers for 30 s."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import sqlalchemy as sa

from jobstore import runtime
from jobstore.tables import audit_log


def _cli(proc_env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mindq.cli", "tenant", *args], env=proc_env,
                          capture_output=True, text=True, timeout=60)


def test_revoked_key_is_refused_at_once_by_a_running_web_process(proc_env, web_server):
    made = _cli(proc_env, "create", "clinic-revoke")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    for _ in range(5):  # the web process now holds the key in its cache
        assert httpx.get(f"{web_server}/v1/jobs", headers=headers).status_code == 200

    revoked = _cli(proc_env, "revoke", key)
    assert revoked.returncode == 0, revoked.stderr
    prefix = json.loads(revoked.stdout)["prefix"]
    assert prefix in key and key not in revoked.stdout  # the secret part is never echoed
    deadline, status = time.monotonic() + 3, 200  # far inside the cache's 30 s
    while time.monotonic() < deadline and status == 200:
        resp = httpx.get(f"{web_server}/v1/jobs", headers=headers)
        status = resp.status_code
        time.sleep(0.05)
    assert status == 401 and resp.json()["error"]["code"] == "INVALID_API_KEY"

    again = _cli(proc_env, "revoke", prefix)  # by prefix; nothing live is left to revoke
    assert again.returncode == 1 and json.loads(again.stdout)["revoked"] is False
    with runtime.db().connect() as conn:
        details = conn.execute(sa.select(audit_log.c.details).where(
            audit_log.c.action == "api_key.revoke")).scalars().all()
    assert {"prefix": prefix} in details
