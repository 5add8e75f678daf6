"""mindq.client and the submit / batch / status commands against the real stack (gunicorn, cpu
worker, Redis, PostgreSQL): a batch of a few hundred lines killed midway and resumed submits
each input once and writes one line per input."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import uuid

import httpx
import pytest
import sqlalchemy as sa

from jobstore import runtime, tenants
from mindq.client import Client, Event
from tests.platform.conftest import set_consuming, wait_until

START = dt.date(2026, 1, 5)
N_LINES = 200


@pytest.fixture()
def tenant_key():
    """A key of a tenant of its own, so its jobs can be counted."""
    engine = runtime.db()
    tid = tenants.ensure_tenant(engine, f"batch-{uuid.uuid4().hex[:8]}")
    return tid, tenants.add_key(engine, tid)


def jobs_of(tenant_id) -> int:
    with runtime.db().connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM jobs WHERE tenant_id = :t"), {"t": tenant_id}).scalar_one()


def series(i: int) -> dict:
    scores = [max(0, min(27, 14 + (i % 7) - k)) for k in range(6)]
    return {"instrument": "PHQ-9", "horizon": 2,
            "observations": [{"timestamp": (START + dt.timedelta(weeks=k)).isoformat(), "value": v}
                             for k, v in enumerate(scores)]}


def cli(args: list[str], env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mindq.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs)


def test_batch_is_killed_resumed_and_submits_each_line_once(tmp_path, proc_env, web_server,
                                                             cpu_worker, tenant_key):
    tenant_id, key = tenant_key
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    lines = [{"id": f"p{i}", **series(i)} if i % 2 else {"id": f"p{i}", "payload": series(i)} for i in range(N_LINES)]
    lines[7] = {"id": "p7", "instrument": "PHQ-9", "observations": []}  # refused at submission: a line all the same
    src.write_text("".join(json.dumps(line) + "\n" for line in lines))
    args = ["batch", str(src), "--type", "forecast", "--out", str(out), "--api", web_server, "--key", key,
            "--concurrency", "8"]

    first = cli(args, proc_env)
    wait_until(lambda: out.exists() and len(out.read_text().splitlines()) >= 60 or first.poll() is not None, 180,
               0.05, what="60 lines written")
    assert first.poll() is None, first.communicate()
    os.killpg(first.pid, signal.SIGKILL)  # a crash: submissions in flight, lines not yet written
    first.communicate()
    written = {json.loads(line)["id"] for line in out.read_text().splitlines() if line.endswith("}")} - {"p7"}
    in_flight = jobs_of(tenant_id) - len(written)  # submitted, line never written (8 threads were busy)
    assert in_flight >= 0

    second = cli(args, proc_env)
    stdout, stderr = second.communicate(timeout=600)
    assert second.returncode == 0, stderr[-2000:]
    summary = json.loads(stderr.strip().splitlines()[-1])
    assert summary["total"] == N_LINES and summary["unfinished"] == 0
    assert summary["already_done"] >= len(written) - 1  # a torn last line is dropped and redone
    assert summary["replayed"] >= in_flight > 0, summary  # each input submitted before the kill found its job

    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(line["id"] for line in lines)  # one line per input
    assert jobs_of(tenant_id) == N_LINES - 1  # each valid input submitted exactly once, across both runs
    by_id = {r["id"]: r for r in rows}
    assert by_id["p7"]["state"] == "rejected" and by_id["p7"]["error"]["code"] == "INVALID_SERIES"
    ok = [r for r in rows if r["id"] != "p7"]
    assert all(r["state"] == "succeeded" and len(r["result"]["forecasts"]) == 2 for r in ok), ok[:3]
    assert len({r["job_id"] for r in ok}) == N_LINES - 1

    third = cli(args, proc_env)  # all done: nothing is submitted
    _, stderr = third.communicate(timeout=120)
    assert json.loads(stderr.strip().splitlines()[-1])["submitted"] == 0
    assert jobs_of(tenant_id) == N_LINES - 1


class DropFirstStream(httpx.BaseTransport):
    """A network that cuts the first event stream after its first event; ``on_reconnect`` runs
    when the second stream is asked for."""

    def __init__(self, on_reconnect=lambda: None):
        self.inner = httpx.HTTPTransport()
        self.streams: list[str | None] = []
        self.on_reconnect = on_reconnect

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.inner.handle_request(request)
        if not request.url.path.endswith("/events"):
            return resp
        self.streams.append(request.headers.get("Last-Event-ID"))
        if len(self.streams) == 2:
            self.on_reconnect()
        if len(self.streams) > 1:
            return resp
        upstream = resp.stream

        class Cut(httpx.SyncByteStream):
            def __iter__(self):
                buf = b""
                for chunk in upstream:
                    buf += chunk
                    start = buf.find(b"data:")
                    end = buf.find(b"\n\n", start) if start >= 0 else -1
                    if end >= 0:  # the first whole event goes through, then the line drops
                        yield buf[: end + 2]
                        raise httpx.ReadError("connection reset")
                yield buf

            def close(self):
                upstream.close()

        return httpx.Response(resp.status_code, headers=resp.headers, stream=Cut(), request=request)

    def close(self) -> None:
        self.inner.close()


def test_client_wait_resumes_with_last_event_id(web_server, keys, cpu_worker):
    # the job waits in its queue until the client has come back: a job done before the first
    # stream opened would end the wait at the client's status check, with nothing to resume
    hostname = f"worker-cpu@{socket.gethostname()}"
    transport = DropFirstStream(on_reconnect=lambda: set_consuming("cpu", hostname, on=True))
    seen: list[Event] = []
    set_consuming("cpu", hostname, on=False)
    try:
        with Client(web_server, keys["clinic-a"], transport=transport) as mq:
            job = mq.submit("forecast", payload=series(3))
            assert job.state == "queued" and not job.replayed
            done = mq.wait(job.id, on_event=seen.append, timeout=120)
    finally:
        set_consuming("cpu", hostname, on=True)
    assert done.state == "succeeded" and done.result and done.result["forecasts"]
    assert len(transport.streams) >= 2 and transport.streams[0] is None
    assert transport.streams[1] == seen[0].id  # resumed right after the last event it had
    ids = [e.id for e in seen]
    assert len(ids) == len(set(ids)) and seen[-1].terminal  # no event twice, and the end


def test_submit_and_status_commands_default_to_the_stack(tmp_path, proc_env, web_server, cpu_worker):
    home = tmp_path / "home"
    home.mkdir()
    (home / "stack.json").write_text(json.dumps({"api": web_server}))
    admin = tenants.add_key(runtime.db(), tenants.ensure_tenant(runtime.db(), "ops-cli"), scopes=tenants.ALL_SCOPES)
    env = {**proc_env, "MINDQ_HOME": str(home), "MINDQ_API_KEY": admin}
    proc = cli(["submit", "--type", "scrub", "--text-file", "-", "--wait"], env, stdin=subprocess.PIPE)
    stdout, stderr = proc.communicate("Call Dr. Alvarez at 555-201-3344.", timeout=120)
    assert proc.returncode == 0, stderr
    job = json.loads(stdout)
    assert job["state"] == "succeeded" and "555-201-3344" not in job["result"]["text"]
    assert "succeeded" in stderr  # the events it followed

    proc = cli(["status", "--json"], env)
    stdout, stderr = proc.communicate(timeout=60)
    status = json.loads(stdout)
    assert status["api"] == web_server
    assert "cpu" in status["queues"] and status["queues"]["cpu"]["workers"]
    assert isinstance(status["queues"]["cpu"]["waiting"], int)
    assert status["jobs"]["succeeded"] >= 1 and isinstance(status["recent_failures"], list)
    proc = cli(["status"], env)
    stdout, _ = proc.communicate(timeout=60)
    assert "queues:" in stdout and "recent failures" in stdout

    bad = cli(["submit", "--type", "scrub", "--text-file", "-"], {**env, "MINDQ_API_KEY": "nope"}, stdin=subprocess.PIPE)
    stdout, _ = bad.communicate("x", timeout=60)
    assert bad.returncode == 1 and json.loads(stdout)["error"]["code"] == "INVALID_API_KEY"


def test_client_stores_a_journal_once_and_follows_its_reanalysis(web_server, llm_worker):
    engine = runtime.db()
    key = tenants.add_key(engine, tenants.ensure_tenant(engine, f"journal-client-{uuid.uuid4().hex[:6]}"),
                          scopes=("journals:write", "journals:read"))
    patient = f"PT-{uuid.uuid4().hex[:8]}"
    entries = [{"entry_id": f"n{i}", "written_at": f"2026-11-0{i + 1}T21:00:00+00:00",
                "text": f"Night {i}: slept badly, worried about work."} for i in range(3)]
    with Client(web_server, key) as mq:
        mq.add_journal_entries(patient, entries)
        mq.add_journal_entries(patient, entries)  # a retry stores nothing twice: 3 entries to analyse
        run = mq.start_reanalysis(["sentiment"], patient_refs=[patient])
        done = mq.wait_reanalysis(run["id"], poll_s=0.3, timeout=180)
        assert mq.start_reanalysis(["sentiment"], patient_refs=[patient])["counts"]["selected"] == 0  # all current
        assert isinstance(mq.flags(patient), list)
    assert done["state"] == "succeeded" and done["counts"] == {"selected": 3, "done": 3, "failed": 0}, done
