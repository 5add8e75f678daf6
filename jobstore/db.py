"""Engine creation: one pool per process, created after fork."""
from __future__ import annotations

import select
from typing import Any

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
    engine = sa.create_engine(
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
        # no pre-ping: it costs a round trip per checkout; _drop_dead_connections costs none
        pool_pre_ping=False,
        pool_recycle=1800,
    )
    sa.event.listen(engine, "checkout", _drop_dead_connections)
    return engine


def _drop_dead_connections(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection that the server closed (a database restart) is replaced at checkout,
    before anyone runs a statement on it: an idle connection has nothing to read, so a readable
    socket means the server hung up (or said why it did). One poll, no round trip; SQLAlchemy
    answers DisconnectionError by opening a new connection in its place."""
    if dbapi_connection.closed:
        raise sa.exc.DisconnectionError("connection closed")
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        raise sa.exc.DisconnectionError("connection socket unusable") from None
    if readable:
        raise sa.exc.DisconnectionError("the server closed the connection")
