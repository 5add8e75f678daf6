"""``mindq batch``: one JSONL file of inputs → one JSONL file of results, matched by ``id``.

Resumable: an input whose id already has a line in the output is not submitted again, and each
submission carries an Idempotency-Key derived from the analysis type and the input's id, so an
input that was submitted but not yet written when the run was interrupted gets its first job
back (200) on the next run rather than a second one. A line is written once its job is terminal
(or refused at submission), whole and flushed; a torn last line from a killed run is dropped.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import threading
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, TextIO

import httpx

from mindq.client import Client, Job, MindqError

BODY_FIELDS = ("text", "previous_text", "payload", "patient_ref", "options", "callback_url")


class BatchInputError(ValueError):
    """The input file cannot be run as it is (a line without an id, an id twice)."""


@dataclasses.dataclass
class Summary:
    total: int = 0
    already_done: int = 0
    submitted: int = 0
    replayed: int = 0  # submissions that found their job from an earlier, interrupted run
    succeeded: int = 0
    failed: int = 0  # failed, cancelled, or refused at submission
    unfinished: int = 0  # no line written (connection lost): the next run picks them up


def idempotency_key(job_type: str, item_id: str) -> str:
    digest = hashlib.sha256(f"{job_type}\x1f{item_id}".encode()).hexdigest()[:40]
    return f"mindq-batch-{digest}"


def read_inputs(path: Path, job_type: str, options: dict[str, Any] | None, priority: str) -> list[tuple[str, dict]]:
    """(id, job body) per input line: ``{"id", "text", ...}`` or ``{"id", ...payload}``."""
    items: list[tuple[str, dict]] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise BatchInputError(f"{path}:{n}: not a JSON object") from None
            if not isinstance(row, dict) or row.get("id") in (None, ""):
                raise BatchInputError(f"{path}:{n}: each line needs an \"id\"")
            item_id = str(row.pop("id"))
            if item_id in seen:
                raise BatchInputError(f"{path}:{n}: id {item_id!r} appears twice")
            seen.add(item_id)
            if any(k in row for k in ("text", "payload")):
                body = {k: row[k] for k in BODY_FIELDS if k in row}
            else:  # the rest of the line is the payload (forecasting types)
                body = {"payload": row}
            body = {"type": job_type, "priority": priority, **body}
            if options and "options" not in body:
                body["options"] = options
            items.append((item_id, body))
    return items


def done_ids(path: Path) -> set[str]:
    """Ids that have a line in the output already; drops a torn last line left by a killed run."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        path.write_bytes(data)
    out = set()
    for line in data.decode("utf-8").splitlines():
        try:
            out.add(str(json.loads(line)["id"]))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def run_batch(client: Client, job_type: str, in_path: Path, out_path: Path, *, concurrency: int = 8,
              options: dict[str, Any] | None = None, priority: str = "batch", progress: bool = True,
              timeout: float | None = None) -> Summary:
    items = read_inputs(in_path, job_type, options, priority)
    done = done_ids(out_path)
    todo = [(i, body) for i, body in items if i not in done]
    summary = Summary(total=len(items), already_done=len(items) - len(todo))
    lock = threading.Lock()
    bar = _progress(len(items), summary.already_done, progress)
    with out_path.open("a", encoding="utf-8") as out:
        def one(item_id: str, body: dict) -> None:
            line = _run_one(client, job_type, item_id, body, summary, lock, timeout)
            if line is None:
                return
            with lock:
                _write(out, line)
                bar.update(1)

        pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="mindq-batch")
        try:
            pending: set[Future] = set()
            queue = iter(todo)
            for item_id, body in _take(queue, concurrency * 2):  # a bounded window: memory and fairness
                pending.add(pool.submit(one, item_id, body))
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    fut.result()
                for item_id, body in _take(queue, len(finished)):
                    pending.add(pool.submit(one, item_id, body))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
    summary.unfinished = summary.total - summary.already_done - summary.succeeded - summary.failed
    return summary


def _run_one(client: Client, job_type: str, item_id: str, body: dict, summary: Summary, lock: threading.Lock,
             timeout: float | None) -> dict | None:
    try:
        job = client.submit_body(body, idempotency_key=idempotency_key(job_type, item_id))
    except MindqError as exc:  # refused (invalid input, conflict): that is this input's answer
        with lock:
            summary.failed += 1
        return {"id": item_id, "job_id": None, "state": "rejected",
                "error": {"code": exc.code, "message": exc.message, "details": exc.details}}
    except httpx.TransportError:
        return None  # not known whether it was created: the next run's replay finds out
    with lock:
        summary.submitted += 1
        summary.replayed += job.replayed
    try:
        done = job if job.terminal else client.wait(job.id, timeout=timeout)
    except (httpx.TransportError, TimeoutError, MindqError):
        return None
    with lock:
        if done.state == "succeeded":
            summary.succeeded += 1
        else:
            summary.failed += 1
    return _line(item_id, done)


def _line(item_id: str, job: Job) -> dict:
    return {"id": item_id, "job_id": job.id, "state": job.state, "result": job.result, "error": job.error}


def _write(out: TextIO, line: dict) -> None:
    out.write(json.dumps(line, ensure_ascii=False) + "\n")  # one write: a kill tears at most this line
    out.flush()


def _take(it: Iterable[tuple[str, dict]], n: int) -> list[tuple[str, dict]]:
    out = []
    for item in it:
        out.append(item)
        if len(out) >= n:
            break
    return out


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, initial: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="job", file=sys.stderr, dynamic_ncols=True)
