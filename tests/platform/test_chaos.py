"""`mindq up` serves again after any kill -9 with no human step: a worker role, Redis, the
postmaster (its postmaster.pid left behind), and all of them under load (bench.chaos, short);
and a kill -9 of the supervisor itself leaves no process behind.

One stack for the module (its first start trains the default forecasting models: minutes on a
busy machine); the short chaos run itself is bounded to about 90 s.
"""
from __future__ import annotations

import os
import signal
import time

import httpx
import psutil
import pytest

from bench import chaos
from tests.platform.conftest import wait_until

# the module's stack trains its default forecasting models on its first start: on a busy two-core
# machine that alone can pass the suite's 300 s per test, which counts fixture setup
pytestmark = pytest.mark.timeout(900)


def _ours(home) -> list[psutil.Process]:
    """Live processes started for this stack (they all carry its MINDQ_HOME)."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("MINDQ_HOME") == str(home) and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except psutil.Error:
            continue
    return found


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    stack = chaos.start_up(tmp_path_factory.mktemp("chaos") / "home")
    try:
        yield stack
    finally:
        stack.stop()
        wait_until(lambda: not _ours(stack.home), 60, 1.0, what="every process of the stack to end")


def _ready(stack: chaos.UpStack) -> bool:
    try:
        return httpx.get(stack.api + "/health/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _job_succeeds(stack: chaos.UpStack, job_type: str = "scrub") -> None:
    auth = {"Authorization": f"Bearer {stack.key}"}
    body = {"type": job_type, "text": "after the restart, call 555-201-0000"}
    resp = wait_until(lambda: _post(stack, body, auth), 60, 0.5, what="a submission accepted")
    job_id = resp.json()["id"]

    def done():
        job = httpx.get(f"{stack.api}/v1/jobs/{job_id}", headers=auth, timeout=5).json()
        return job if job["state"] in chaos.TERMINAL else None

    assert wait_until(done, 90, 0.5, what="the job to finish")["state"] == "succeeded"


def _post(stack, body, auth):
    try:
        resp = httpx.post(stack.api + "/v1/jobs", json=body, headers=auth, timeout=10)
    except httpx.HTTPError:
        return None
    return resp if resp.status_code == 202 else None


def _kill_and_wait_back(stack: chaos.UpStack, role: str, pid: int) -> int:
    before = stack.restarts().get(role, 0)
    os.kill(pid, signal.SIGKILL)
    new_pid = wait_until(lambda: (p := stack.role_pid(role)) and p != pid and p, 90, 0.5,
                         what=f"{role} restarted by the supervisor")
    wait_until(lambda: _ready(stack), 90, 1.0, what="the stack ready again")
    _restart_counted(stack, role, before)
    return new_pid


def _restart_counted(stack: chaos.UpStack, role: str, before: float) -> None:
    """The supervisor counts a restart once the child's start returned, which for PostgreSQL can
    be after the stack already answers ready: the count is waited for, and must be exactly one."""
    wait_until(lambda: stack.restarts().get(role, 0) > before, 30, 0.5, what=f"{role}'s restart counted")
    assert stack.restarts()[role] == before + 1


def test_a_killed_worker_role_comes_back_and_leaves_no_orphan(up):
    role_pid, celery_pid = up.role_pid("worker-cpu"), up.celery_pid("worker-cpu")
    assert role_pid and celery_pid
    _kill_and_wait_back(up, "worker-cpu", role_pid)
    # its Celery worker was told by the kernel (PR_SET_PDEATHSIG) and ended
    wait_until(lambda: not psutil.pid_exists(celery_pid) or psutil.Process(celery_pid).status() == psutil.STATUS_ZOMBIE,
               60, 0.5, what="the old Celery worker to end")
    _job_succeeds(up)
    assert '"child restarted"' in up.log_path.read_text() and '"role": "worker-cpu"' in up.log_path.read_text()


def test_a_killed_redis_comes_back_with_its_data(up):
    pid = up.role_pid("redis")
    assert pid
    _kill_and_wait_back(up, "redis", pid)
    assert chaos._redis_up(up.redis_url)  # same port, same password
    _job_succeeds(up)


def test_a_killed_postmaster_comes_back_over_its_stale_pid_file(up):
    import psycopg

    pid = up.role_pid("postgres")
    assert pid
    pidfile = up.home / "postgres" / "pgdata" / "postmaster.pid"
    conn = psycopg.connect(up.database_url)  # a backend the killed postmaster leaves behind
    try:
        before = up.restarts().get("postgres", 0)
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        assert int(pidfile.read_text().split()[0]) == pid  # stale: it names the dead postmaster
        wait_until(lambda: chaos._postgres_up(up.database_url), 90, 0.5, what="PostgreSQL back")
        assert int(pidfile.read_text().split()[0]) != pid
        wait_until(lambda: _ready(up), 90, 1.0, what="the stack ready again")
        _restart_counted(up, "postgres", before)
    finally:
        conn.close()
    _job_succeeds(up)


def test_short_chaos_run_loses_nothing_and_finishes_nothing_twice(up):
    started = time.monotonic()
    # 6 jobs/s: the submissions span both faults
    report = chaos.run(jobs=150, every=6, redis_at=6, postgres_at=18, concurrency=8, llm_share=0.05, rate=6,
                       settle_timeout=60, stack=up)
    assert time.monotonic() - started < 120, report
    assert report["accepted"] + report["refused"] == 150 and report["refused"] == 0, report
    assert report["lost"] == 0 and report["terminal"] == report["accepted"], report
    assert report["two_results"] == 0 and report["result_changed"] == 0, report
    assert report["terminal_reverted"] == 0, report
    assert [o["what"] for o in report["outages"]] == ["redis", "postgres"], report
    assert all(o["back_after_s"] is not None and o["back_after_s"] < 90 for o in report["outages"]), report
    assert report["worker_kills"] >= 2, report


def test_kill_9_of_the_supervisor_leaves_no_process_behind(up):
    children = _ours(up.home)
    assert len(children) > 5  # roles, their workers, redis-server, postgres
    up.proc.send_signal(signal.SIGKILL)
    up.proc.wait()
    wait_until(lambda: not _ours(up.home), 60, 0.5, what="every child to die with its supervisor")
