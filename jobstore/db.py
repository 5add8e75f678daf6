"""Engine creation: one pool per process, created after fork."""
from __future__ import annotations

import sqlalchemy as sa


def sqlalchemy_url(database_url: str) -> str:
    """Accept plain ``postgresql://`` URLs and pick the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix):]
    return database_url


def make_engine(database_url: str, *, pool_size: int = 5, autocommit: bool = False,
                async_commit: bool = False) -> sa.Engine:
    """``autocommit``: connections that are autocommit from the start, for the job services'
    single statements (jobstore.pg). ``async_commit`` (implies autocommit): for the worker's
    writes, commits that return before the WAL reaches disk (``synchronous_commit=off``), for
    writes that may be lost in an OS crash without losing a job."""
    autocommit = autocommit or async_commit
    return sa.create_engine(
        sqlalchemy_url(database_url),
        connect_args={"options": "-c synchronous_commit=off"} if async_commit else {},
        # set on every new connection, so raw DBAPI connections from the pool are autocommit too
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
        pool_size=pool_size,
        # no overflow: an overflow connection is closed as soon as it is returned, so a gevent
        # web process with more requests in flight than pool_size opened (PostgreSQL forks a
        # backend) and closed a connection for one job in seven; waiting briefly for a pooled
        # one is far cheaper, and pool_size bounds each process's share of max_connections
        max_overflow=0,
        pool_timeout=30,
        # no pre-ping: it costs a round trip per checkout; a connection broken by a database
        # restart fails once, SQLAlchemy then invalidates the whole pool, and callers retry
        pool_pre_ping=False,
        pool_recycle=1800,
    )
