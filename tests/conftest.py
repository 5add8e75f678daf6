"""Session-wide real services for the whole suite: redis-server and PostgreSQL from their pip
wheels (the same embedded servers `mindq up` starts), migrated with Alembic."""
from __future__ import annotations

import os

import pytest

from jobstore.crypto import Cipher


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    from migrations.runner import upgrade
    from mindq.embedded import start_postgres, start_redis

    base = tmp_path_factory.mktemp("services")
    redis_svc = start_redis(base / "redis")
    pg_svc = start_postgres(base / "pg")
    upgrade(pg_svc.url)
    running = {"redis": redis_svc, "postgres": pg_svc, "redis_url": redis_svc.url,
               "database_url": pg_svc.url, "dir": base}
    yield running
    # whatever runs now: a test may have restarted Redis in place
    running["redis"].stop()
    running["postgres"].stop()


@pytest.fixture(scope="session")
def platform_env(services, tmp_path_factory) -> dict[str, str]:
    """The environment every mindq process of the test session runs with; also applied here."""
    home = tmp_path_factory.mktemp("home")
    env = {
        "MINDQ_HOME": str(home),
        "REDIS_URL": services["redis_url"],
        "DATABASE_URL": services["database_url"],
        "MINDQ_ENCRYPTION_KEYS": Cipher.generate_key(),
        "MINDQ_RECONCILE_GRACE": "3",
        "MINDQ_RECONCILE_INTERVAL": "2",
        "MINDQ_SSE_HEARTBEAT": "1",
        "MINDQ_LOG_LEVEL": "INFO",
        "MINDQ_TRAIN_PATIENTS": "60",  # the default forecasting models, small enough for a test run
        # the default minus loopback: the callback tests' receivers listen on 127.0.0.1
        "MINDQ_CALLBACK_BLOCKED_NETWORKS": "169.254.0.0/16,fe80::/10,0.0.0.0/8,224.0.0.0/4,ff00::/8",
    }
    os.environ.update(env)
    from jobstore import runtime

    runtime.reset()
    return env
