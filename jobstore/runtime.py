"""Per-process wiring: settings → database engine, Redis client, cipher, job service.

Built lazily on first use so that nothing opens a connection before a fork (gunicorn and Celery
prefork children each build their own).
"""
from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import redis
import sqlalchemy as sa
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from core import config
from core.config import Settings, settings
from jobstore.crypto import Cipher
from jobstore.db import make_engine
from jobstore.intake import JobIntake
from jobstore.journals import JournalStore
from jobstore.lifecycle import JobLifecycle
from jobstore.maintenance import JobMaintenance
from jobstore.pg import Sql
from jobstore.reads import JobReads


class NotConfigured(RuntimeError):
    pass


def read_or_create_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret in ``path``, created (mode 0600) on first use. Safe when several processes
    start at once: the file is written whole under a temporary name and linked into place, so
    a reader never sees it half-written and exactly one creator wins."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(make())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won; use its secret
        finally:
            tmp.unlink()
    return path.read_text().strip()


def encryption_keys(s: Settings) -> tuple[str, ...]:
    """Configured keys, or a key generated once under MINDQ_HOME for the embedded stack."""
    if s.encryption_keys:
        return s.encryption_keys
    return (read_or_create_secret(s.home / "secrets" / "encryption.key", Cipher.generate_key),)


def _database_url(s: Settings) -> str:
    if not s.database_url:
        raise NotConfigured("DATABASE_URL is not set (start the stack with `mindq up`)")
    return s.database_url


@functools.lru_cache(maxsize=1)
def db() -> sa.Engine:
    """For SQLAlchemy Core users (tenants, model registry, metrics) and their transactions."""
    s = settings()
    return make_engine(_database_url(s), pool_size=s.db_pool)


@functools.lru_cache(maxsize=1)
def sql() -> Sql:
    """The job services' statements, each its own durable commit (see jobstore.pg)."""
    s = settings()
    return Sql(make_engine(_database_url(s), pool_size=s.db_pool, autocommit=True))


@functools.lru_cache(maxsize=1)
def worker_sql() -> Sql:
    """For the worker's state writes: a lost commit is redone by the reconciler, never a lost job."""
    s = settings()
    return Sql(make_engine(_database_url(s), pool_size=s.db_pool, async_commit=True))


@functools.lru_cache(maxsize=1)
def redis_client() -> redis.Redis:
    s = settings()
    if not s.redis_url:
        raise NotConfigured("REDIS_URL is not set (start the stack with `mindq up`)")
    # a pooled connection that died with a Redis restart is retried on a fresh one, not surfaced;
    # but a Redis that is down fails fast (two quick retries, bounded connects): a request must
    # answer during an outage (submissions are held, streams end cleanly) rather than wait it out
    return redis.Redis.from_url(s.redis_url, health_check_interval=30, socket_keepalive=True,
                                max_connections=s.redis_pool, socket_connect_timeout=2, socket_timeout=10,
                                retry=Retry(ExponentialBackoff(cap=0.1, base=0.02), 2),
                                retry_on_error=[redis.ConnectionError, redis.TimeoutError])


@functools.lru_cache(maxsize=1)
def cipher() -> Cipher:
    return Cipher(encryption_keys(settings()))


@functools.lru_cache(maxsize=1)
def job_intake() -> JobIntake:
    return JobIntake(sql(), cipher())


@functools.lru_cache(maxsize=1)
def job_reads() -> JobReads:
    return JobReads(sql(), cipher())


@functools.lru_cache(maxsize=1)
def job_lifecycle() -> JobLifecycle:
    return JobLifecycle(sql(), worker_sql(), redis_client(), cipher())


@functools.lru_cache(maxsize=1)
def job_maintenance() -> JobMaintenance:
    return JobMaintenance(sql())


@functools.lru_cache(maxsize=1)
def journals() -> JournalStore:
    return JournalStore(sql(), cipher())


def reset(*, close: bool = True) -> None:
    """Forget the settings and every cached client (tests that switch settings, and a forked
    child, which passes ``close=False``)."""
    config.reset()
    reset_clients(close=close)


def reset_clients(*, close: bool = True) -> None:
    """Forget every cached client: the next use builds it from the current settings. The
    database pools built so far are disposed, their connections closed unless ``close`` is False
    (after a fork they are the parent's sessions: closing them from the child would end them)."""
    for pool in (db, sql, worker_sql):
        if pool.cache_info().currsize:
            built = pool()
            (built if isinstance(built, sa.Engine) else built.engine).dispose(close=close)
    for fn in (db, sql, worker_sql, redis_client, cipher, job_intake, job_reads, job_lifecycle, job_maintenance,
               journals):
        fn.cache_clear()
