"""The embedded PostgreSQL and Redis ask for passwords generated under the secrets folder, never
shown on a command line; a data folder from before passwords (trust) keeps its data and is
converted on its next start."""
from __future__ import annotations

import stat

import psutil
import psycopg
import pytest
import redis

from mindq.embedded import HBA, start_postgres, start_redis


def _without_password(url: str) -> str:
    scheme, rest = url.split("://", 1)
    userinfo, host = rest.split("@", 1)
    return f"{scheme}://{userinfo.split(':')[0]}@{host}"


def test_postgres_needs_its_generated_password_and_converts_a_trust_folder(tmp_path):
    pg = start_postgres(tmp_path / "pg")
    try:
        secret = tmp_path / "secrets" / "postgres.password"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert secret.read_text().strip() in pg.url
        with psycopg.connect(pg.url) as conn:
            conn.execute("CREATE TABLE kept (v int)")
            conn.execute("INSERT INTO kept VALUES (42)")
        for url in (_without_password(pg.url), pg.url.replace(secret.read_text().strip(), "wrong")):
            with pytest.raises(psycopg.OperationalError):
                psycopg.connect(url, connect_timeout=5).close()
        assert not any(secret.read_text().strip() in cmdline for cmdline in _postgres_cmdlines())
    finally:
        pg.stop()

    # as a folder made before passwords: trust for everyone, no password of ours
    pgdata = tmp_path / "pg" / "pgdata"
    (pgdata / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (pgdata / "mindq-password.sha256").unlink()
    secret.unlink()
    pg = start_postgres(tmp_path / "pg")
    try:
        assert (pgdata / "pg_hba.conf").read_text() == HBA
        with psycopg.connect(pg.url) as conn:  # the new password works, the data is there
            assert conn.execute("SELECT v FROM kept").fetchone() == (42,)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(_without_password(pg.url), connect_timeout=5).close()
    finally:
        pg.stop()


def test_redis_needs_its_generated_password(tmp_path):
    svc = start_redis(tmp_path / "redis")
    try:
        secret = (tmp_path / "secrets" / "redis.password").read_text().strip()
        assert redis.Redis.from_url(svc.url).ping()
        with pytest.raises(redis.AuthenticationError):
            redis.Redis.from_url(svc.url.replace(secret, "wrong")).ping()
        with pytest.raises(redis.AuthenticationError):  # NOAUTH
            redis.Redis.from_url(svc.url.replace(f":{secret}@", "")).set("k", "v")
        assert secret not in " ".join(psutil.Process(svc.process.pid).cmdline())  # ps shows no password
    finally:
        svc.stop()


def _postgres_cmdlines() -> list[str]:
    """Every live postgres process's command line; one that exits (or is a zombie) meanwhile is
    skipped: it shows nothing to ps."""
    out = []
    for p in psutil.process_iter():
        try:
            if p.name() == "postgres":
                out.append(" ".join(p.cmdline()))
        except psutil.Error:
            continue
    return out
