"""Re-analysis runs of patient journals: fan-out to ``llm.batch``, progress, change flags.

A run (jobstore.journals) names a tenant's entries and types, each type at the versions of
model, prompt, parser and scrubber current when the run was created (tasks.provenance). Its
work is cut into lanes: a lane message (``mindq.reanalysis_lane``, on ``llm.batch``) claims a
chunk of (entry, type) pairs that have no analysis at those versions, analyses them through the
LLM analysis handler (scrub → render → engine → parse, batch priority), stores each result under
its claim, and sends its successor. The claim is the only guard needed: a pair has one analysis
row per version (a unique constraint), taken with a lease, so a second run, a redelivered
message or a restarted worker never analyses a pair that is done or held by a live claim.

A worker that dies loses its lane messages (Celery only redelivers them after the visibility
timeout) and its claims lapse with their leases; the beat's tick (``mindq.reanalysis_tick``,
each minute) resends lanes to a run that went quiet with no live claim, and starts each
tenant's nightly run (MINDQ_NIGHTLY_CRON in the tenant's time zone). The last lane to find
nothing left finishes the run: it computes the change flags (tasks.journal_flags), and sends
the signed callback when any was raised.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import threading
import uuid
import zoneinfo
from typing import Any

from celery.schedules import crontab

from core import config, failures
from core.errors import ErrorCode
from core.logs import log_context
from jobstore import events, runtime
from jobstore.journals import JournalStore, progress
from jobstore.pg import Row
from jobstore.values import utcnow
from jobstore.workers import live_workers
from tasks import callbacks
from tasks.app import app
from tasks.contract import JobContext, JobError
from tasks.jobtypes import job_types
from tasks.journal_flags import detect
from tasks.routing import CPU_QUEUE, LLM_BATCH

log = logging.getLogger("mindq.reanalysis")

START, LANE, TICK, CALLBACK = ("mindq.reanalysis_start", "mindq.reanalysis_lane", "mindq.reanalysis_tick",
                               "mindq.reanalysis_callback")
VERSION_KEYS = ("model_id", "model_kind", "prompt_version", "parser_version", "scrubber_version")
NIGHTLY_LOOKBACK_MIN = 15  # a tick fires a firing it missed by up to this long (beat restarts)
PROGRESS_EVERY_S = 1.0  # a busy run records its counts (one pass over its scope) at most this often
WAIT_FOR_OTHERS_S = 2.0  # a lane whose pairs are all held by another run's claims looks again after this
# the chunk's analyses wait on the engine concurrently (each a thread blocked on its Future)
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="reanalysis")


# -- versions and types -------------------------------------------------------------------------
def version_key(versions: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(versions, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def run_versions(types: list[str]) -> dict[str, dict[str, Any]]:
    """Each type's current versions and their key: what an analysis "at today's versions" means."""
    from tasks.provenance import current_versions

    budget = config.settings().reanalysis_max_new_tokens
    out = {}
    for name in types:
        versions = {k: str(v) for k, v in current_versions(name).items()}
        if budget:  # a shorter answer is another analysis
            versions["max_new_tokens"] = str(budget)
        out[name] = {"versions": versions, "key": version_key(versions)}
    return out


def analysable_types() -> list[str]:
    """LLM types that read one text: a journal entry alone is their whole input."""
    return sorted(t.name for t in job_types().values() if t.kind == "llm" and t.input == "text")


def default_types(tenant_types: list[str] | None = None) -> list[str]:
    allowed = set(analysable_types())
    return [t for t in (tenant_types or config.settings().nightly_types) if t in allowed]


# -- creating and starting runs -----------------------------------------------------------------
def create_run(tenant_id: uuid.UUID, *, trigger: str, types: list[str], actor: str,
               patient_refs: list[str] | None = None, since: dt.datetime | None = None,
               callback_url: str | None = None, nightly_key: str | None = None) -> Row | None:
    """Store a run and start it (its selection counted, its lanes sent); None when
    ``nightly_key`` already fired. A run that cannot start now stays queued, durable, and the
    tick starts it."""
    store = runtime.journals()
    run = store.create_run(
        tenant_id, trigger=trigger, versions=run_versions(sorted(set(types))), patient_refs=patient_refs,
        since=since, callback_url=callback_url, actor=actor, nightly_key=nightly_key)
    if run is None:
        return None
    log.info("reanalysis run created", extra={"run_id": str(run["id"]), "tenant_id": str(tenant_id),
                                              "trigger": trigger, "types": sorted(set(types))})
    try:
        return begin(store, run) or run
    except Exception as exc:  # an outage: the tick starts it later
        log.warning("reanalysis run not started", extra={"run_id": str(run["id"]), "error_type": type(exc).__name__})
        return run


def _send(task: str, run_id: str, queue: str, countdown: float | None = None) -> bool:
    try:
        app.send_task(task, args=[run_id], queue=queue, countdown=countdown)
        return True
    except Exception as exc:  # the run is in PostgreSQL: the tick resends what is missing
        log.warning("reanalysis message not sent", extra={"run_id": run_id, "task": task,
                                                           "error_type": type(exc).__name__})
        return False


def lanes() -> int:
    """Lane messages per run: enough chunks to keep each gpu worker's engine batch full twice
    over, never more than half its task threads (the rest stay free for interactive jobs)."""
    s = config.settings()
    if s.reanalysis_lanes:
        return s.reanalysis_lanes
    try:
        workers = sum(1 for w in live_workers(runtime.redis_client()) if LLM_BATCH in (w.get("queues") or []))
    except Exception:
        workers = 1
    per_worker = max(1, min(2 * s.model.max_batch // s.reanalysis_chunk, max(1, s.model.max_batch // 2)))
    return per_worker * max(1, workers)


@app.task(name=START, ignore_result=True)
def start(run_id: str) -> str:
    """A queued run's start, sent by the tick when creating it could not start it."""
    store = runtime.journals()
    run = store.run(run_id)
    if run is None or run["state"] != "queued":
        return "skipped"
    return "started" if begin(store, run) is not None else "skipped"


def begin(store: JournalStore, run: Row) -> Row | None:
    """queued → running: count the selection, send the lanes (or finish an empty run at once).
    None when the run had been started already."""
    run_id = str(run["id"])
    with log_context(run_id=run_id, tenant_id=str(run["tenant_id"])):
        started = store.start_run(run)
        if started is None:
            return None
        log.info("reanalysis run started", extra={"selected": started["selected"]})
        publish(started)
        if started["selected"] == 0:
            finish(store, started)
            return store.run(run_id)
        for _ in range(lanes()):
            _send(LANE, run_id, LLM_BATCH)
        return started


# -- a lane: claim, analyse, store, go on -------------------------------------------------------
@dataclasses.dataclass
class EntryContext(JobContext):
    """A journal pair as the analysis handler sees a job. Stages are neither stored nor streamed
    per pair: the run reports its progress as a whole."""

    def stage(self, stage: str, progress: int, **extra: Any) -> None:
        pass

    def progress_event(self, stage: str, progress: int, **extra: Any) -> None:
        pass

    def on_cancel(self, callback) -> None:
        pass


def _no_watch(_job_id: str, _callback) -> None:
    pass


@app.task(name=LANE, bind=True, ignore_result=True)
def lane(self, run_id: str) -> str:
    store = runtime.journals()
    run = store.run(run_id)
    if run is None or run["state"] != "running":
        return "skipped"
    s = config.settings()
    owner = f"{self.request.hostname}:{self.request.id}:{uuid.uuid4().hex[:8]}"
    with log_context(run_id=run_id, tenant_id=str(run["tenant_id"])):
        items = store.claim(run, owner, s.reanalysis_chunk, s.lease_seconds)
        if items:
            analyse_chunk(store, run, items, owner, s.lease_seconds)
        if len(items) == s.reanalysis_chunk:  # a full chunk: more is likely left, go on at once
            _send(LANE, run_id, LLM_BATCH)
            if (utcnow() - run["updated_at"]).total_seconds() >= PROGRESS_EVERY_S:
                record(store, run, store.status(run))
            return "continued"
        return settle(store, run)


def settle(store: JournalStore, run: Row) -> str:
    """What a lane does when its claim came back short: go on, wait, end, or finish the run."""
    counts = store.status(run)
    if counts["claimable"]:
        _send(LANE, str(run["id"]), LLM_BATCH)
        record(store, run, counts)
        return "continued"
    if counts["own_in_flight"]:  # this run's other lanes hold the rest: the last of them finishes
        record(store, run, counts)
        return "ended"
    if counts["in_flight"]:  # only another run's claims are left: wait for them, then count them done
        record(store, run, counts)
        _send(LANE, str(run["id"]), LLM_BATCH, countdown=WAIT_FOR_OTHERS_S)
        return "waiting"
    return finish(store, run, counts)


def analyse_chunk(store: JournalStore, run: Row, items: list[dict[str, Any]], owner: str, lease_s: float) -> None:
    """Analyse the claimed pairs concurrently (the engine batches them), renewing their leases
    until each is stored."""
    pending = {item["id"] for item in items}
    lock, stop = threading.Lock(), threading.Event()

    def renew() -> None:
        while not stop.wait(lease_s / 3):
            with lock:
                ids = list(pending)
            try:
                store.renew(ids, owner, lease_s)
            except Exception as exc:  # a lapsed lease only risks another worker redoing a pair
                log.warning("reanalysis leases not renewed", extra={"error_type": type(exc).__name__})

    renewer = threading.Thread(target=renew, daemon=True, name="reanalysis-leases")
    renewer.start()
    try:
        futures = {_pool.submit(analyse_one, store, run, item, owner): item for item in items}
        for future in concurrent.futures.as_completed(futures):
            with lock:
                pending.discard(futures[future]["id"])
    finally:
        stop.set()


def analyse_one(store: JournalStore, run: Row, item: dict[str, Any], owner: str) -> str:
    from tasks.analysis import handle_analysis

    expected = run["versions"][item["type"]]["versions"]
    options = {"max_new_tokens": int(expected["max_new_tokens"])} if "max_new_tokens" in expected else {}
    ctx = EntryContext(job={"id": item["id"], "type": item["type"], "priority": "batch", "options": options},
                       payload={"text": item["text"]}, attempt=item["attempt"],
                       lifecycle=runtime.job_lifecycle(), watch_cancel=_no_watch)
    try:
        result = handle_analysis(ctx).result
    except JobError as exc:
        log.info("reanalysis of a pair failed", extra={"error_code": exc.code, "type": item["type"]})
        store.fail(item["id"], owner, exc.code, exc.message)
        return "failed"
    except Exception as exc:
        # the message may quote the text: only its type and place are logged
        log.error("reanalysis of a pair crashed", extra={"error_type": type(exc).__name__,
                                                         "where": failures.where(exc)})
        if failures.is_transient(exc):
            store.release(item["id"], owner)  # another lane retakes it (attempts are bounded)
        else:
            store.fail(item["id"], owner, ErrorCode.INTERNAL_ERROR,
                       f"the analysis failed unexpectedly ({type(exc).__name__})")
        return "failed"
    versions = {**expected, **{k: str(result[k]) for k in VERSION_KEYS if k in result}}
    if versions != expected:
        # this worker's configuration differs from the one the run was created under
        log.warning("analysis versions differ from the run's", extra={"type": item["type"]})
    return "succeeded" if store.succeed(item["id"], owner, result, versions) else "discarded"


# -- progress, the end of a run, flags ----------------------------------------------------------
def publish(run: Row, **extra: Any) -> None:
    """The run's state on its event stream (the same Redis streams job events use)."""
    event = {"run_id": str(run["id"]), "at": utcnow().isoformat(), "state": run["state"],
             "progress": run["progress"], "counts": counts_view(run), "flags_raised": run["flags_raised"], **extra}
    try:
        events.publish(runtime.redis_client(), str(run["id"]), event)
    except Exception as exc:  # the row has it; the stream's reader falls back to the row at the end
        log.warning("run event not published", extra={"run_id": str(run["id"]), "error_type": type(exc).__name__})


def counts_view(run: Row) -> dict[str, int]:
    return {"selected": run["selected"], "done": run["done"], "failed": run["failed"]}


def record(store: JournalStore, run: Row, counts: dict[str, int]) -> None:
    updated = store.record_progress(run, counts)
    if updated is not None:
        publish(updated)


def finish(store: JournalStore, run: Row, counts: dict[str, int] | None = None) -> str:
    counts = counts or store.status(run)
    flags = detect(store.run_series(run), run["id"], config.settings().trend_window)
    raised = store.add_flags(run, flags)
    state = "failed" if counts["failed"] and not counts["done"] else "succeeded"
    error = {"code": ErrorCode.INTERNAL_ERROR, "message": "no entry could be analysed"} if state == "failed" else None
    final = store.finish_run(run, state, counts, flags_raised=raised, error=error)
    if final is None:
        return "finished elsewhere"
    log.info("reanalysis run finished", extra={"run_id": str(run["id"]), "state": state, "done": counts["done"],
                                               "failed": counts["failed"], "flags_raised": raised})
    publish(final)
    if raised and final["callback_url"]:
        # on the run's own queue: the workers that did the run deliver its news (retries wait in Redis)
        _send(CALLBACK, str(run["id"]), LLM_BATCH)
    return "finished"


@app.task(name=CALLBACK, bind=True, max_retries=12, ignore_result=True)
def deliver_callback(self, run_id: str) -> str:
    """The signed EMR callback of tasks.callbacks, for a run that raised flags: ids and counts
    only; the receiver reads the flags with its API key."""
    run = runtime.journals().run(run_id)
    if run is None or not run["callback_url"]:
        return "skipped"
    body = json.dumps({"event": "reanalysis.flags", "run_id": run_id, "state": run["state"],
                       "flags_raised": run["flags_raised"],
                       "links": {"self": f"/v1/reanalysis-runs/{run_id}"}}, separators=(",", ":")).encode()
    try:
        sent = callbacks.post_signed(run["callback_url"], body)
    except callbacks.DeliveryFailed as exc:
        log.warning("reanalysis callback failed; retried", extra={"run_id": run_id, "error": str(exc)})
        raise self.retry(countdown=min(2 ** self.request.retries, 600)) from None
    log.info("reanalysis callback", extra={"run_id": run_id, "outcome": sent.outcome, "detail": sent.detail})
    return sent.outcome


# -- the beat: nightly runs, and runs that went quiet ---------------------------------------------
class InvalidCron(ValueError):
    """MINDQ_NIGHTLY_CRON does not parse."""


@app.task(name=TICK, ignore_result=True)
def tick() -> dict[str, int]:
    try:
        started = fire_nightly(utcnow())
    except InvalidCron:  # a configuration error must not stop quiet runs from being resumed
        log.error("MINDQ_NIGHTLY_CRON does not parse; no nightly runs", extra={"error_code": ErrorCode.INVALID_CRON})
        started = 0
    return {"started": started, "resumed": resume_stalled()}


def nightly_schedule(cron: str) -> crontab:
    """MINDQ_NIGHTLY_CRON, five fields (minute hour day-of-month month day-of-week). InvalidCron
    (a ValueError) when it does not parse."""
    fields = cron.split()
    if len(fields) != 5:
        raise InvalidCron("a cron expression has five fields")
    minute, hour, day_of_month, month, day_of_week = fields
    try:
        return crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month,
                       day_of_week=day_of_week)
    except ValueError as exc:
        raise InvalidCron(str(exc)) from None


def firings(cron: crontab, tz: zoneinfo.ZoneInfo, now: dt.datetime, lookback_min: int) -> list[dt.datetime]:
    """Local minutes within the last ``lookback_min`` at which ``cron`` fires in ``tz``."""
    end = now.replace(second=0, microsecond=0)
    out = []
    for back in range(lookback_min, -1, -1):
        local = (end - dt.timedelta(minutes=back)).astimezone(tz)
        if (local.minute in cron.minute and local.hour in cron.hour and local.day in cron.day_of_month
                and local.month in cron.month_of_year and local.isoweekday() % 7 in cron.day_of_week):
            out.append(local)
    return out


def fire_nightly(now: dt.datetime) -> int:
    """Start each tenant's run whose nightly time came; a firing starts one run however many
    ticks see it (the run's nightly_key is unique)."""
    cron = nightly_schedule(config.settings().nightly_cron)
    started = 0
    for sched in runtime.journals().schedules():
        if not sched["enabled"]:
            continue
        try:
            tz = zoneinfo.ZoneInfo(sched["time_zone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tz = zoneinfo.ZoneInfo("UTC")
        types = default_types(sched["types"])
        for local in firings(cron, tz, now, NIGHTLY_LOOKBACK_MIN):
            key = f"{sched['tenant_id']}:{local.strftime('%Y-%m-%dT%H:%M')}"
            if types and create_run(sched["tenant_id"], trigger="nightly", types=types, actor="system:nightly",
                                    callback_url=sched["callback_url"], nightly_key=key) is not None:
                started += 1
    return started


def resume_stalled(quiet_s: float | None = None) -> int:
    """Resend the start of a queued run nobody started, and lanes to a running run that went
    quiet with no live claim (its worker died, or its messages were lost)."""
    store = runtime.journals()
    quiet = quiet_s if quiet_s is not None else max(3 * config.settings().lease_seconds, 30.0)
    resumed = 0
    for run in store.stalled_runs(quiet):
        run_id = str(run["id"])
        store.touch_run(run["id"])  # the next tick waits another quiet period before adding more
        if run["state"] == "queued":
            resumed += _send(START, run_id, CPU_QUEUE)
            continue
        log.info("reanalysis run resumed", extra={"run_id": run_id})
        for _ in range(lanes()):
            resumed += _send(LANE, run_id, LLM_BATCH)
    return resumed


def run_view(run: Row, flags: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A run as the API and the CLI show it."""
    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    run_id = str(run["id"])
    view: dict[str, Any] = {
        "id": run_id, "state": run["state"], "trigger": run["trigger"], "types": sorted(run["versions"]),
        "versions": {t: v["versions"] for t, v in run["versions"].items()},
        "since": iso(run["since"]), "counts": counts_view(run),
        "progress": 100 if run["state"] == "succeeded" else progress(run, {"done": run["done"],
                                                                          "failed": run["failed"]}),
        "flags_raised": run["flags_raised"], "error": run["error"],
        "created_at": iso(run["created_at"]), "started_at": iso(run["started_at"]),
        "finished_at": iso(run["finished_at"]),
        "links": {"self": f"/v1/reanalysis-runs/{run_id}", "events": f"/v1/reanalysis-runs/{run_id}/events"}}
    if flags is not None:
        view["flags"] = flags
    return view
