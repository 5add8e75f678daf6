"""How the API and the workers look at an unexpected exception, in one place."""
from __future__ import annotations

import traceback


def where(exc: BaseException, depth: int = 3) -> list[str]:
    """file:line of the innermost frames: what a log may say about an exception whose message
    could quote patient text."""
    return [f"{f.filename}:{f.lineno}" for f in traceback.extract_tb(exc.__traceback__)[-depth:]]


def is_transient(exc: BaseException) -> bool:
    """A dependency outage (Redis, PostgreSQL, the network) rather than a bug: worth a retry."""
    import psycopg
    import redis
    import sqlalchemy.exc

    return isinstance(exc, (redis.ConnectionError, redis.TimeoutError, sqlalchemy.exc.OperationalError,
                            sqlalchemy.exc.InterfaceError, psycopg.OperationalError, psycopg.InterfaceError,
                            ConnectionError, TimeoutError))
