"""Revoking an API key with `mindq tenant revoke` takes effect at once in a running web process,
although that process caches authentication answers for 30 s."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest
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


def test_storing_a_revoked_key_again_does_not_bring_it_back(platform_env):
    from jobstore import tenants

    engine = runtime.db()
    tid = tenants.ensure_tenant(engine, "clinic-revoked")
    key = tenants.add_key(engine, tid)
    assert tenants.add_key(engine, tid, key) == key  # storing a live key again is fine
    assert tenants.revoke_key(engine, key, actor="test") == tid
    with pytest.raises(tenants.KeyRevoked):
        tenants.add_key(engine, tid, key)
    assert tenants.authenticate(engine, key) is None


def test_mindq_up_replaces_a_revoked_demo_key_and_refuses_a_revoked_configured_one(platform_env, tmp_path):
    from core.config import load_settings
    from jobstore import tenants
    from mindq.stack import Stack

    key_file = tmp_path / "secrets" / "demo-api.key"
    generated = Stack(load_settings({"MINDQ_HOME": str(tmp_path)}))
    first = generated._bootstrap(platform_env["DATABASE_URL"], tenants.new_key(), key_file)
    tenants.revoke_key(runtime.db(), first, actor="test")
    # the next start: the revoked key stays revoked, a new one takes its place in the secrets file
    second = generated._bootstrap(platform_env["DATABASE_URL"], first, key_file)
    assert second != first and key_file.read_text().strip() == second
    assert tenants.authenticate(runtime.db(), first) is None
    assert tenants.authenticate(runtime.db(), second) is not None
    configured = Stack(load_settings({"MINDQ_HOME": str(tmp_path), "MINDQ_BOOTSTRAP_KEY": first}))
    with pytest.raises(SystemExit, match="revoked"):
        configured._bootstrap(platform_env["DATABASE_URL"], first, key_file)


def test_a_new_key_gets_least_privilege_unless_admin_is_asked_for(proc_env):
    made = _cli(proc_env, "create", "clinic-least")
    assert made.returncode == 0, made.stderr
    assert "admin" not in json.loads(made.stdout)["scopes"]
    admin = _cli(proc_env, "create", "clinic-least", "--scopes", "jobs:read,admin")
    assert json.loads(admin.stdout)["scopes"] == ["jobs:read", "admin"]
    typo = _cli(proc_env, "create", "clinic-least", "--scopes", "jobs:raed")
    assert typo.returncode == 2 and "unknown scope" in typo.stderr
