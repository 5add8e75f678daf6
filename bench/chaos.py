"""Chaos under load: jobs through the API of a `mindq up` stack while a driver kill -9s a Celery
worker every ~10 s and kills Redis and the postmaster once each. Nobody restarts anything by
hand: the supervisor of `mindq up` does.

Prints jobs accepted, terminal, lost (accepted but missing or not terminal at the end), run
twice (claimed more than once: the kill interrupted them; allowed), with two results (a second
terminal event in the job's stream, or a result that changed between two reads), terminal
states reverted (seen terminal through the API, later not), and each outage's length (kill to
the server answering again) with what the API did meanwhile.

Clients behave as the README asks: a submission that gets a 503 or no answer (the web role
restarting) is sent again with the same Idempotency-Key, so a retry never makes a second job.

    .venv/bin/python -m bench.chaos [--jobs 2000] [--rate 25] [--worker-kill-every 10] [--redis-at 25] [--postgres-at 50]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psutil

from core.procs import die_with_parent

TERMINAL = ("succeeded", "failed", "cancelled")
TEXT = "Chaos note {i}: Dr. Alvarez called me at 555-201-{n:04d}; I felt hopeless most days this month."


# -- the stack ------------------------------------------------------------------------------------
@dataclasses.dataclass
class UpStack:
    proc: subprocess.Popen
    home: Path
    key: str
    api: str
    redis_url: str
    database_url: str
    log_path: Path

    def role_pid(self, role: str) -> int | None:
        """The pid of a child of `mindq up`: web, worker-cpu, worker-gpu, beat, flower, redis, postgres."""
        marks = {"web": "gunicorn", "worker-cpu": "worker cpu", "worker-gpu": "worker gpu", "beat": " beat",
                 "flower": " flower"}
        for child in psutil.Process(self.proc.pid).children():
            try:
                cmd = " ".join(child.cmdline())
                name = child.name()
            except psutil.Error:
                continue
            if role == "redis" and name == "redis-server":
                return child.pid
            if role == "postgres" and name == "postgres":
                return child.pid
            if role in marks and marks[role] in cmd:
                return child.pid
        return None

    def celery_pid(self, role: str) -> int | None:
        """The Celery worker process under a `mindq worker` role (its launcher's child)."""
        pid = self.role_pid(role)
        if pid is None:
            return None
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(pid).children():
                if "celery" in " ".join(child.cmdline()):
                    return child.pid
        return None

    def metrics_token(self) -> str:
        return (self.home / "secrets" / "metrics.token").read_text().strip()

    def restarts(self) -> dict[str, float]:
        text = httpx.get(self.api + "/metrics", headers={"Authorization": f"Bearer {self.metrics_token()}"},
                         timeout=10).text
        out = {}
        for line in text.splitlines():
            if line.startswith("mindq_supervisor_restarts_total{"):
                role = line.split('role="', 1)[1].split('"', 1)[0]
                out[role] = float(line.rsplit(" ", 1)[1])
        return out

    def stop(self, timeout: float = 120) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # as Ctrl-C
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_up(home: Path, *, ready_timeout: float = 900, extra_env: dict[str, str] | None = None) -> UpStack:
    """`mindq up --no-demo` on its own embedded Redis and PostgreSQL under ``home``."""
    from jobstore.tenants import new_key
    from mindq.embedded import free_port

    home.mkdir(parents=True, exist_ok=True)
    key = new_key()
    drop = ("REDIS_URL", "DATABASE_URL", "MINDQ_HOME", "MINDQ_ENCRYPTION_KEYS", "PROMETHEUS_MULTIPROC_DIR",
            "MINDQ_METRICS_TOKEN")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"MINDQ_HOME": str(home), "MINDQ_BOOTSTRAP_KEY": key, "MINDQ_API_PORT": str(free_port()),
                "MINDQ_FLOWER_PORT": str(free_port()), "MINDQ_WEB_WORKERS": "1", "MODEL_MAX_BATCH": "4",
                "MINDQ_TRAIN_PATIENTS": "60", "MINDQ_RATE_LIMIT": "1000000 per minute", "PYTHONUNBUFFERED": "1",
                # a killed worker's job is run again once its lease runs out and the reconciler
                # sees it: shorter than production so a run takes minutes, not hours
                "MINDQ_LEASE_SECONDS": "10", "MINDQ_RECONCILE_INTERVAL": "5", "MINDQ_RECONCILE_GRACE": "15",
                "MINDQ_LOG_LEVEL": "WARNING", **(extra_env or {})})
    log_path = home / "up.log"
    with open(log_path, "ab") as log:
        # SIGINT (as Ctrl-C) if this process dies: a stack must not outlive the run that started it
        proc = subprocess.Popen([sys.executable, "-m", "mindq.cli", "up", "--no-demo"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=die_with_parent(signal.SIGINT))
    deadline = time.monotonic() + ready_timeout
    info_path = home / "stack.json"
    try:
        while not info_path.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"mindq up did not get ready (exit {proc.returncode}):\n{tail}")
            time.sleep(1)
    except BaseException:  # a timeout, an interrupt: stop what was started
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        raise
    info = json.loads(info_path.read_text())
    return UpStack(proc, home, key, info["api"], info["redis_url"], info["database_url"], log_path)


# -- the faults -----------------------------------------------------------------------------------
@dataclasses.dataclass
class Outage:
    what: str
    killed_at: float
    back_after_s: float | None = None  # kill → the server answers again


def _redis_up(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _postgres_up(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


class Driver(threading.Thread):
    """kill -9 of a Celery worker (cpu and gpu in turn) every ``every`` s; Redis at ``redis_at`` s
    and the postmaster at ``postgres_at`` s after the start (each once), timing each outage."""

    def __init__(self, stack: UpStack, every: float, redis_at: float, postgres_at: float, seed: int = 7):
        super().__init__(daemon=True, name="chaos-driver")
        self.stack = stack
        self.every, self.redis_at, self.postgres_at = every, redis_at, postgres_at
        self.rng = random.Random(seed)
        self.worker_kills: list[str] = []
        self.outages: list[Outage] = []
        self.done = threading.Event()

    def run(self) -> None:
        t0 = time.monotonic()
        next_worker = t0 + self.every * self.rng.uniform(0.7, 1.3)
        pending = [("redis", t0 + self.redis_at), ("postgres", t0 + self.postgres_at)]
        turn = 0
        while not self.done.is_set():
            now = time.monotonic()
            if now >= next_worker:
                role = ("worker-cpu", "worker-gpu")[turn % 2]
                turn += 1
                pid = self.stack.celery_pid(role) or self.stack.role_pid(role)
                if pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                        self.worker_kills.append(role)
                next_worker = now + self.every * self.rng.uniform(0.7, 1.3)
            for item in list(pending):
                what, at = item
                if now >= at:
                    pending.remove(item)
                    self._kill_server(what)
            time.sleep(0.2)

    def _kill_server(self, what: str) -> None:
        pid = self.stack.role_pid(what)
        if pid is None:
            return
        outage = Outage(what, time.monotonic())
        os.kill(pid, signal.SIGKILL)  # the postmaster alone: its backends and postmaster.pid stay behind
        self.outages.append(outage)
        probe = (lambda: _redis_up(self.stack.redis_url)) if what == "redis" else \
            (lambda: _postgres_up(self.stack.database_url))
        time.sleep(0.2)
        while not probe():
            if time.monotonic() - outage.killed_at > 300:
                return
            time.sleep(0.2)
        outage.back_after_s = round(time.monotonic() - outage.killed_at, 1)


# -- the load -------------------------------------------------------------------------------------
@dataclasses.dataclass
class Submissions:
    accepted: dict[str, str] = dataclasses.field(default_factory=dict)  # job id -> Idempotency-Key
    refused: int = 0  # gave up after retries
    retries: int = 0
    statuses: dict[str, int] = dataclasses.field(default_factory=dict)  # status codes seen (retried ones too)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


def submit_all(stack: UpStack, n: int, concurrency: int, llm_share: float, out: Submissions,
               rate: float = 0.0, seed: int = 11) -> Submissions:
    """``rate`` jobs/s (0: as fast as the clients go), so that the faults land among submissions."""
    rng = random.Random(seed)
    t0 = time.monotonic()
    plan = [("imhi.dr" if rng.random() < llm_share else "scrub", i) for i in range(n)]
    headers = {"Authorization": f"Bearer {stack.key}"}

    def one(client: httpx.Client, job_type: str, i: int) -> None:
        if rate > 0:
            time.sleep(max(0.0, t0 + i / rate - time.monotonic()))
        body: dict = {"type": job_type, "text": TEXT.format(i=i, n=i % 10000)}
        if job_type == "imhi.dr":
            body["options"] = {"max_new_tokens": 8}
        idem = f"chaos-{uuid.uuid4()}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                resp = client.post(stack.api + "/v1/jobs", json=body, headers={**headers, "Idempotency-Key": idem},
                                   timeout=30)
                status = resp.status_code
            except httpx.HTTPError:
                status = 0  # no answer: the web role is restarting
            with out.lock:
                out.statuses[str(status)] = out.statuses.get(str(status), 0) + 1
            if status in (200, 202):
                with out.lock:
                    out.accepted[resp.json()["id"]] = idem
                return
            if status not in (0, 429, 502, 503, 504):
                break  # a 4xx is the client's fault: not retried
            with out.lock:
                out.retries += 1
            time.sleep(0.5)
        with out.lock:
            out.refused += 1

    with httpx.Client(limits=httpx.Limits(max_connections=concurrency)) as client:
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(lambda p: one(client, *p), plan))
    return out


class Watcher(threading.Thread):
    """Reads every accepted job's state and result (as a GET would return them) once a second: a
    terminal state seen once must never change, nor its result. It reads PostgreSQL directly, one
    query a sweep, so that watching does not double the load on the API."""

    def __init__(self, stack: UpStack, subs: Submissions):
        super().__init__(daemon=True, name="chaos-watcher")
        self.stack, self.subs = stack, subs
        self.seen: dict[str, tuple[str, str | None]] = {}  # job id -> (state, result digest)
        self.reverted: set[str] = set()
        self.changed_result: set[str] = set()
        self.done = threading.Event()

    def sweep(self) -> int | None:
        """The number of accepted jobs not terminal yet (None: the database did not answer)."""
        import psycopg

        with self.subs.lock:
            ids = list(self.subs.accepted)
        try:
            with psycopg.connect(self.stack.database_url, connect_timeout=3) as conn:
                rows = conn.execute(
                    "SELECT j.id::text, j.state, md5(r.ciphertext::text) FROM jobs j "
                    "LEFT JOIN results r ON r.job_id = j.id WHERE j.id = ANY(%s::uuid[])", (ids,)).fetchall()
        except psycopg.Error:
            return None
        found = {row[0]: (row[1], row[2]) for row in rows}
        for job_id, (state, digest) in found.items():
            before = self.seen.get(job_id)
            if before is not None:
                if state != before[0]:
                    self.reverted.add(job_id)
                elif digest != before[1]:
                    self.changed_result.add(job_id)
            elif state in TERMINAL:
                self.seen[job_id] = (state, digest)
        return sum(1 for j in ids if found.get(j, ("?",))[0] not in TERMINAL)

    def run(self) -> None:
        while not self.done.is_set():
            self.sweep()
            time.sleep(1.0)


# -- the figures ----------------------------------------------------------------------------------
def verify(stack: UpStack, subs: Submissions) -> dict:
    """What PostgreSQL and the event streams say about every accepted job."""
    import psycopg
    import redis

    from jobstore import events

    ids = list(subs.accepted)
    with psycopg.connect(stack.database_url) as conn:
        rows = conn.execute(
            "SELECT j.id::text, j.state, j.attempts, (SELECT count(*) FROM results r WHERE r.job_id = j.id) "
            "FROM jobs j WHERE j.id = ANY(%s::uuid[])", (ids,)).fetchall()
        counted = conn.execute("SELECT count(*) FROM jobs").fetchone()
        total_jobs = counted[0] if counted else 0
    by_id = {r[0]: r for r in rows}
    r = redis.Redis.from_url(stack.redis_url)
    two_terminal_events = 0
    for job_id in ids:
        ends = [e for _, e in events.history(r, job_id) if events.is_terminal_event(e)]
        if len({e.get("state") for e in ends}) > 1 or len(ends) > 1:
            two_terminal_events += 1
    states: dict[str, int] = {}
    for row in rows:
        states[row[1]] = states.get(row[1], 0) + 1
    return {
        "terminal": sum(1 for row in rows if row[1] in TERMINAL),
        "states": states,
        "lost": sum(1 for j in ids if j not in by_id or by_id[j][1] not in TERMINAL),
        "run_twice": sum(1 for row in rows if row[2] > 1),
        "two_results": sum(1 for row in rows if row[3] > 1) + two_terminal_events,
        "jobs_in_database": total_jobs,
    }


def run(jobs: int, every: float, redis_at: float, postgres_at: float, concurrency: int = 16,
        llm_share: float = 0.05, settle_timeout: float = 600, home: Path | None = None,
        stack: UpStack | None = None, rate: float = 0.0) -> dict:
    """The whole experiment; starts (and stops) its own stack unless one is given."""
    own = stack is None
    if stack is None:
        stack = start_up(home or Path(tempfile.mkdtemp(prefix="mindq-chaos-")) / "home")
    try:
        subs = Submissions()
        watcher = Watcher(stack, subs)
        driver = Driver(stack, every, redis_at, postgres_at)
        t0 = time.monotonic()
        driver.start()
        watcher.start()
        submit_all(stack, jobs, concurrency, llm_share, subs, rate)
        submitted_s = time.monotonic() - t0
        # faults still due happen while the jobs drain
        while driver.is_alive() and len(driver.outages) < 2 and time.monotonic() - t0 < max(redis_at, postgres_at) + 5:
            time.sleep(0.5)
        driver.done.set()
        driver.join()
        watcher.done.set()
        watcher.join()
        deadline = time.monotonic() + settle_timeout
        while watcher.sweep() != 0 and time.monotonic() < deadline:
            time.sleep(2)
        settled_s = time.monotonic() - t0
        figures = verify(stack, subs)
        restarts = {}
        with contextlib.suppress(Exception):
            restarts = stack.restarts()
        return {
            "jobs_submitted": jobs, "accepted": len(subs.accepted), "refused": subs.refused,
            "client_retries": subs.retries, "http_statuses": subs.statuses,
            **figures,
            "terminal_reverted": len(watcher.reverted), "result_changed": len(watcher.changed_result),
            "worker_kills": len(driver.worker_kills),
            "outages": [{"what": o.what, "at_s": round(o.killed_at - t0, 1), "back_after_s": o.back_after_s}
                        for o in driver.outages],
            "supervisor_restarts": restarts,
            "submit_s": round(submitted_s, 1), "all_terminal_after_s": round(settled_s, 1),
        }
    finally:
        if own:
            stack.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=2000)
    p.add_argument("--worker-kill-every", type=float, default=10.0)
    p.add_argument("--redis-at", type=float, default=25.0, help="seconds after the start")
    p.add_argument("--postgres-at", type=float, default=50.0, help="seconds after the start")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rate", type=float, default=25.0,
                   help="submissions per second (0: as fast as possible); 2,000 at 25/s span both faults")
    p.add_argument("--llm-share", type=float, default=0.05, help="share of jobs that are imhi.dr (gpu worker)")
    p.add_argument("--home", type=Path, help="MINDQ_HOME of the stack (default: a new temporary folder)")
    args = p.parse_args(argv)
    report = run(args.jobs, args.worker_kill_every, args.redis_at, args.postgres_at, args.concurrency,
                 args.llm_share, home=args.home, rate=args.rate)
    print(json.dumps(report, indent=2))
    bad = report["lost"] or report["two_results"] or report["terminal_reverted"] or report["result_changed"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
