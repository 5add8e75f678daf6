"""A typed Python client for the mindq job API (httpx): submit, get, wait through the job's
Server-Sent Events (resuming with Last-Event-ID when the connection drops), cancel, batches,
patient journals and their re-analysis runs.

    from mindq.client import Client
    with Client.from_env() as mq:                      # $MINDQ_HOME/stack.json + MINDQ_API_KEY
        job = mq.submit("depression", text="...")
        done = mq.wait(job.id)
        print(done.state, done.result)

Submissions with an ``idempotency_key`` are retried on connection errors, 429 and 503 (the key
makes a retry return the first job instead of a second one); without one, only 429 is retried,
since the server refused that request before creating anything.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

TERMINAL_STATES = ("succeeded", "failed", "cancelled")
RETRY_STATUSES = (429, 503)


class MindqError(Exception):
    """The API refused a request: its status and the body's stable code, message and details."""

    def __init__(self, status: int, code: str, message: str, details: Mapping[str, Any] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.details = dict(details or {})


@dataclasses.dataclass(frozen=True)
class Job:
    id: str
    type: str
    state: str
    stage: str
    progress: int
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    raw: dict[str, Any] = dataclasses.field(repr=False)
    replayed: bool = False  # a submission whose Idempotency-Key found an earlier job (200, not 202)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @classmethod
    def from_json(cls, body: Mapping[str, Any], replayed: bool = False) -> Job:
        return cls(id=str(body["id"]), type=str(body["type"]), state=str(body["state"]), stage=str(body["stage"]),
                   progress=int(body.get("progress") or 0), result=body.get("result"), error=body.get("error"),
                   raw=dict(body), replayed=replayed)


@dataclasses.dataclass(frozen=True)
class Event:
    id: str | None
    event: str | None
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        return self.data.get("state") in TERMINAL_STATES


def stack_defaults(home: Path | str | None = None) -> tuple[str | None, str | None]:
    """(api, key) from the environment: ``$MINDQ_HOME/stack.json`` (written by ``mindq up``) and
    ``MINDQ_API_KEY``; on the stack's own machine the bootstrap or demo key serves as a fallback."""
    base = Path(home or os.environ.get("MINDQ_HOME") or "./.mindq")
    api = os.environ.get("MINDQ_API")
    if api is None:
        try:
            api = json.loads((base / "stack.json").read_text()).get("api")
        except (OSError, ValueError):
            api = None
    key = os.environ.get("MINDQ_API_KEY") or os.environ.get("MINDQ_BOOTSTRAP_KEY")
    if not key:
        try:
            key = (base / "secrets" / "demo-api.key").read_text().strip() or None
        except OSError:
            key = None
    return api, key


class Client:
    def __init__(self, api: str, key: str, *, timeout: float = 30.0, retries: int = 5,
                 transport: httpx.BaseTransport | None = None):
        self.api = api.rstrip("/")
        self.retries = retries
        self._http = httpx.Client(base_url=self.api, timeout=timeout, transport=transport,
                                  headers={"Authorization": f"Bearer {key}", "User-Agent": "mindq-client"})

    @classmethod
    def from_env(cls, api: str | None = None, key: str | None = None, **kwargs: Any) -> Client:
        found_api, found_key = stack_defaults()
        api, key = api or found_api, key or found_key
        if not api:
            raise MindqError(0, "NO_API", "No API URL: pass --api, or start the stack (mindq up) so "
                                          "$MINDQ_HOME/stack.json names it.")
        if not key:
            raise MindqError(0, "NO_API_KEY", "No API key: pass --key or set MINDQ_API_KEY.")
        return cls(api, key, **kwargs)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- jobs ------------------------------------------------------------------------------------
    def submit(self, type: str, text: str | None = None, *, previous_text: str | None = None,
               payload: Mapping[str, Any] | None = None, patient_ref: str | None = None,
               options: Mapping[str, Any] | None = None, priority: str = "interactive",
               callback_url: str | None = None, idempotency_key: str | None = None) -> Job:
        body: dict[str, Any] = {"type": type, "priority": priority}
        for name, value in (("text", text), ("previous_text", previous_text), ("payload", payload),
                            ("patient_ref", patient_ref), ("options", options), ("callback_url", callback_url)):
            if value is not None:
                body[name] = value
        return self.submit_body(body, idempotency_key=idempotency_key)

    def submit_body(self, body: Mapping[str, Any], *, idempotency_key: str | None = None) -> Job:
        """POST /v1/jobs with a ready body; a replay of the same Idempotency-Key returns the first job."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        resp = self._send("POST", "/v1/jobs", json=dict(body), headers=headers,
                          safe_to_retry=idempotency_key is not None)
        return Job.from_json(resp.json(), replayed=resp.status_code == 200)

    def get(self, job_id: str) -> Job:
        return Job.from_json(self._call("GET", f"/v1/jobs/{job_id}"))

    def cancel(self, job_id: str) -> Job:
        return Job.from_json(self._call("DELETE", f"/v1/jobs/{job_id}"))

    def jobs(self, state: str | None = None, limit: int = 50) -> list[Job]:
        params: dict[str, Any] = {"limit": limit, **({"state": state} if state else {})}
        return [Job.from_json(j) for j in self._call("GET", "/v1/jobs", params=params)["jobs"]]

    def events(self, job_id: str, last_event_id: str | None = None, timeout: float = 300.0) -> Iterator[Event]:
        """The job's events from after ``last_event_id`` (all of them without one) until the
        stream ends; one connection, no resume (``wait`` resumes)."""
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        with self._http.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers,
                               timeout=httpx.Timeout(timeout, connect=10.0)) as resp:
            if resp.status_code != 200:
                resp.read()
                raise _error(resp)
            event_id, name, data = None, None, None
            for line in resp.iter_lines():
                if line == "":
                    if data is not None:
                        yield Event(event_id, name, json.loads(data))
                    event_id, name, data = None, None, None
                elif line.startswith("id:"):
                    event_id = line[3:].strip()
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data = line[5:].strip() if data is None else data + "\n" + line[5:].strip()

    def wait(self, job_id: str, *, timeout: float | None = None,
             on_event: Callable[[Event], None] | None = None) -> Job:
        """Follow the job's events to its terminal one, reconnecting with Last-Event-ID after a
        dropped connection (no event is missed or repeated), then return the job with its result."""
        deadline = None if timeout is None else time.monotonic() + timeout
        last: str | None = None
        failures = 0
        while True:
            try:
                for event in self.events(job_id, last):
                    last = event.id or last
                    failures = 0
                    if on_event is not None:
                        on_event(event)
                    if event.terminal:
                        return self.get(job_id)
                # the stream ended without a terminal event (a server restart): look, then resume
            except (httpx.TransportError, httpx.RemoteProtocolError):
                failures += 1
                if failures > self.retries:
                    raise
            job = self.get(job_id)
            if job.terminal:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} is still {job.state} after {timeout} s")
            time.sleep(min(0.2 * 2 ** failures, 5.0))

    # -- journals and their re-analysis ----------------------------------------------------------
    def add_journal_entries(self, patient_ref: str, entries: list[Mapping[str, Any]]) -> dict[str, Any]:
        """POST /v1/patients/<ref>/journal: entries {entry_id, written_at, text}; idempotent per
        entry_id, so a retry after a dropped connection stores nothing twice."""
        return dict(self._call("POST", f"/v1/patients/{quote(patient_ref, safe='')}/journal",
                               json={"entries": [dict(e) for e in entries]}, safe_to_retry=True))

    def flags(self, patient_ref: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/v1/patients/{quote(patient_ref, safe='')}/flags")["flags"])

    def start_reanalysis(self, types: list[str], *, patient_refs: list[str] | None = None,
                         since: str | None = None) -> dict[str, Any]:
        """POST /v1/reanalysis-runs: re-analyse what is new or out of date for ``types``."""
        body: dict[str, Any] = {"types": list(types)}
        if patient_refs is not None:
            body["patient_refs"] = list(patient_refs)
        if since is not None:
            body["since"] = since
        return dict(self._call("POST", "/v1/reanalysis-runs", json=body))

    def get_reanalysis(self, run_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/reanalysis-runs/{run_id}"))

    def cancel_reanalysis(self, run_id: str) -> dict[str, Any]:
        return dict(self._call("DELETE", f"/v1/reanalysis-runs/{run_id}"))

    def wait_reanalysis(self, run_id: str, *, poll_s: float = 1.0, timeout: float | None = None) -> dict[str, Any]:
        """Poll the run until it is no longer queued or running; returns its last view."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self.get_reanalysis(run_id)
            if run["state"] not in ("queued", "running"):
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is still {run['state']} after {timeout} s")
            time.sleep(poll_s)

    # -- batches, catalogue, health --------------------------------------------------------------
    def batch(self, type: str, items: list[Mapping[str, Any]], *, options: Mapping[str, Any] | None = None,
              priority: str = "batch") -> dict[str, Any]:
        """POST /v1/batches: many items of one type at once (each {text | payload, patient_ref?})."""
        body = {"type": type, "items": [dict(i) for i in items], "priority": priority, "options": dict(options or {})}
        return dict(self._call("POST", "/v1/batches", json=body))

    def get_batch(self, batch_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/batches/{batch_id}"))

    def analysis_types(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/v1/analysis-types")["analysis_types"])

    def ready(self) -> dict[str, Any]:
        """/health/ready's body, whether ready (200) or not (503)."""
        resp = self._http.get("/health/ready")
        return dict(resp.json())

    def metrics(self, token: str | None = None) -> str:
        """The Prometheus exposition: needs an admin key, or the scraper's ``token``."""
        resp = self._http.get("/metrics", headers={"Authorization": f"Bearer {token}"} if token else None)
        if resp.status_code != 200:
            raise _error(resp)
        return resp.text

    # -- transport -------------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._send(method, path, **kwargs).json()

    def _send(self, method: str, path: str, *, safe_to_retry: bool | None = None, **kwargs: Any) -> httpx.Response:
        safe = method in ("GET", "DELETE") if safe_to_retry is None else safe_to_retry
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = self._http.request(method, path, **kwargs)
            except httpx.TransportError:
                if not safe or attempt > self.retries:
                    raise
                time.sleep(min(0.2 * 2 ** attempt, 5.0))
                continue
            if resp.status_code < 400:
                return resp
            retryable = resp.status_code == 429 or (safe and resp.status_code in RETRY_STATUSES)
            if not retryable or attempt > self.retries:
                raise _error(resp)
            time.sleep(_retry_after(resp, attempt))


def _retry_after(resp: httpx.Response, attempt: int) -> float:
    try:
        return min(float(resp.headers.get("Retry-After", "")), 30.0)
    except ValueError:
        return min(0.2 * 2 ** attempt, 5.0)


def _error(resp: httpx.Response) -> MindqError:
    try:
        err = resp.json()["error"]
        return MindqError(resp.status_code, str(err.get("code")), str(err.get("message")), err.get("details"))
    except (ValueError, KeyError, TypeError):
        return MindqError(resp.status_code, "HTTP_ERROR", resp.reason_phrase)
