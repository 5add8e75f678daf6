"""Patient journals and their re-analysis runs: the store (SQL in jobstore.journal_statements).

Entry text, the client's entry id and the patient ref travel together in one ciphertext; the
refs are also kept as keyed hashes (the cipher's lookup HMAC) for lookups, and a keyed digest of
(written_at, text) tells a replay from a conflicting resend without keeping either in clear.
Analyses keep their label word and confidence in clear (change detection reads them) and the
whole result encrypted.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from psycopg.types.json import Jsonb

from jobstore import journal_statements as q
from jobstore.crypto import Cipher
from jobstore.pg import Row, Sql
from jobstore.values import as_uuid, utcnow


@dataclasses.dataclass(frozen=True)
class NewEntry:
    entry_id: str
    written_at: dt.datetime  # timezone-aware
    text: str


@dataclasses.dataclass(frozen=True)
class StoredEntry:
    entry_id: str
    id: uuid.UUID
    created: bool


class EntryConflict(Exception):
    """Entries already stored under these entry_ids with another text or date."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} entries conflict")
        self.count = count


@dataclasses.dataclass(frozen=True)
class RunScope:
    """What a run analyses: the tenant's entries created up to ``cutoff`` (optionally of some
    patients, written since a date) × its types, each at the version key fixed at creation."""

    tenant_id: uuid.UUID
    run_id: uuid.UUID
    cutoff: dt.datetime
    since: dt.datetime | None
    patients: list[str] | None
    versions: dict[str, dict[str, Any]]  # type -> {"versions": {...}, "key": "..."}

    @classmethod
    def of(cls, run: Row) -> RunScope:
        return cls(run["tenant_id"], run["id"], run["created_at"], run["since"], run["patient_ref_hashes"],
                   run["versions"])

    def params(self, now: dt.datetime) -> dict[str, Any]:
        types = sorted(self.versions)
        return {"tenant_id": self.tenant_id, "run_id": self.run_id, "cutoff": self.cutoff, "since": self.since,
                "patients": self.patients, "now": now, "types": types,
                "keys": [self.versions[t]["key"] for t in types],
                "versions": [Jsonb(self.versions[t]["versions"]) for t in types]}


class JournalStore:
    def __init__(self, sql: Sql, cipher: Cipher) -> None:
        self.sql = sql
        self.cipher = cipher

    def patient_hash(self, patient_ref: str) -> str:
        return self.cipher.lookup_hash(patient_ref)  # the same hash jobs keep: one patient, one key

    def _entry_hash(self, entry_id: str) -> str:
        return self.cipher.lookup_hash("journal-entry:" + entry_id)

    def _digest(self, entry: NewEntry) -> str:
        when = entry.written_at.astimezone(dt.UTC).isoformat()
        return self.cipher.lookup_hash("journal-text:" + when + "\x1f" + entry.text)

    # -- entries ----------------------------------------------------------------------------
    def add_entries(self, tenant_id: uuid.UUID, patient_ref: str, entries: list[NewEntry]) -> list[StoredEntry]:
        """Store new entries, all or none: an entry_id already stored with the same text and date
        is a replay (created=False); with another, EntryConflict and nothing is written."""
        patient = self.patient_hash(patient_ref)
        refs = [self._entry_hash(e.entry_id) for e in entries]
        digests = [self._digest(e) for e in entries]
        ids = [uuid.uuid4() for _ in entries]
        with self.sql.cursor(transaction=True) as cur:
            created = {r["entry_ref_hash"]: r["id"] for r in cur.execute(q.ADD_ENTRIES, {
                "tenant_id": tenant_id, "patient": patient, "ids": ids, "refs": refs,
                "written_at": [e.written_at for e in entries], "digests": digests,
                "ciphertexts": [self.cipher.encrypt_json({"entry_id": e.entry_id, "patient_ref": patient_ref,
                                                          "text": e.text}) for e in entries]})}
            others = [r for r in refs if r not in created]
            existing = {r["entry_ref_hash"]: r for r in cur.execute(q.ENTRIES_BY_REF, {
                "tenant_id": tenant_id, "patient": patient, "refs": others})} if others else {}
            conflicts = sum(1 for ref, digest in zip(refs, digests, strict=True)
                            if ref in existing and existing[ref]["digest"] != digest)
            if conflicts:
                raise EntryConflict(conflicts)  # leaving the block rolls the inserts back
        out = []
        for entry, ref in zip(entries, refs, strict=True):
            if ref in created:
                out.append(StoredEntry(entry.entry_id, created[ref], True))
            else:
                out.append(StoredEntry(entry.entry_id, existing[ref]["id"], False))
        return out

    def patient_entries(self, tenant_id: uuid.UUID, patient_ref: str, *, include_text: bool = False
                        ) -> list[dict[str, Any]] | None:
        """The patient's entries, oldest first, each with its analyses; None for an unknown patient."""
        params = {"tenant_id": tenant_id, "patient": self.patient_hash(patient_ref)}
        rows = self.sql.all(q.PATIENT_ENTRIES, params)
        if not rows:
            return None
        analyses: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for a in self.sql.all(q.PATIENT_ANALYSES, params):
            v = a["versions"] or {}
            analyses.setdefault(a["journal_entry_id"], []).append({
                "type": a["type"], "label": a["label"], "confidence": a["confidence"],
                "model_id": v.get("model_id"), "prompt_version": v.get("prompt_version"),
                "versions": v, "run_id": str(a["run_id"]) if a["run_id"] else None,
                "created_at": a["finished_at"].isoformat() if a["finished_at"] else None})
        out = []
        for row in rows:
            plain = self.cipher.decrypt_json(row["ciphertext"])
            item: dict[str, Any] = {"entry_id": plain["entry_id"], "written_at": row["written_at"].isoformat(),
                                    "analyses": analyses.get(row["id"], [])}
            if include_text:
                item["text"] = plain["text"]
            out.append(item)
        return out

    def patient_flags(self, tenant_id: uuid.UUID, patient_ref: str, limit: int = 500) -> list[dict[str, Any]] | None:
        params = {"tenant_id": tenant_id, "patient": self.patient_hash(patient_ref), "limit": limit}
        if self.sql.one(q.PATIENT_EXISTS, params) is None:
            return None
        return [self._flag_view(f, with_patient=False) for f in self.sql.all(q.PATIENT_FLAGS, params)]

    def _flag_view(self, f: Row, *, with_patient: bool) -> dict[str, Any]:
        plain = self.cipher.decrypt_json(f["ciphertext"])
        view: dict[str, Any] = {"kind": f["kind"], "type": f["type"], "entry_id": plain["entry_id"],
                                "from": f["from_label"], "to": f["to_label"],
                                "requires_attention": f["requires_attention"],
                                "run_id": str(f["run_id"]) if f["run_id"] else None,
                                "raised_at": f["raised_at"].isoformat()}
        if with_patient:
            view["patient_ref"] = plain["patient_ref"]
        return view

    # -- runs -------------------------------------------------------------------------------
    def create_run(self, tenant_id: uuid.UUID, *, trigger: str, versions: dict[str, dict[str, Any]],
                   patient_refs: list[str] | None = None, since: dt.datetime | None = None,
                   callback_url: str | None = None, actor: str, nightly_key: str | None = None) -> Row | None:
        """A queued run; None when ``nightly_key`` already has one (a firing starts one run)."""
        return self.sql.one(q.CREATE_RUN, {
            "id": uuid.uuid4(), "tenant_id": tenant_id, "trigger": trigger, "versions": Jsonb(versions),
            "patients": [self.patient_hash(p) for p in patient_refs] if patient_refs else None,
            "since": since, "callback_url": callback_url, "nightly_key": nightly_key, "actor": actor})

    def run(self, run_id: uuid.UUID | str, tenant_id: uuid.UUID | None = None) -> Row | None:
        return self.sql.one(q.RUN, {"run_id": as_uuid(run_id), "tenant_id": tenant_id})

    def recent_runs(self, tenant_id: uuid.UUID, limit: int = 50) -> list[Row]:
        return self.sql.all(q.RECENT_RUNS, {"tenant_id": tenant_id, "limit": limit})

    def status(self, run: Row) -> dict[str, int]:
        """Counts over the run's scope now: missing, claimable, in_flight, own_in_flight, failed, and
        done: what was missing when the run started and is not now."""
        now = utcnow()
        params = {**RunScope.of(run).params(now), "started_at": run["started_at"] or now}
        row = self.sql.one(q.RUN_STATUS, params)
        assert row is not None
        counts = {k: int(v) for k, v in row.items()}
        counts["done"] = max(0, (run["selected"] or 0) - counts["missing"])
        return counts

    def start_run(self, run: Row) -> Row | None:
        """queued → running, with its selection counted; None if it was started already."""
        selected = self.status(run)["missing"]
        return self.sql.one(q.START_RUN, {"run_id": run["id"], "now": utcnow(), "selected": selected})

    def record_progress(self, run: Row, counts: dict[str, int]) -> Row | None:
        return self.sql.one(q.RUN_PROGRESS, {"run_id": run["id"], "now": utcnow(), "done": counts["done"],
                                             "failed": counts["failed"], "progress": progress(run, counts)})

    def finish_run(self, run: Row, state: str, counts: dict[str, int], *, flags_raised: int = 0,
                   error: dict[str, Any] | None = None) -> Row | None:
        """running → ``state``; None if another execution finished it first."""
        return self.sql.one(q.FINISH_RUN, {
            "run_id": run["id"], "now": utcnow(), "state": state, "done": counts.get("done", 0),
            "failed": counts.get("failed", 0), "progress": 100 if state == "succeeded" else progress(run, counts),
            "flags_raised": flags_raised, "error": Jsonb(error) if error else None})

    def cancel_run(self, run_id: uuid.UUID, tenant_id: uuid.UUID) -> Row | None:
        return self.sql.one(q.CANCEL_RUN, {"run_id": run_id, "tenant_id": tenant_id, "now": utcnow()})

    def touch_run(self, run_id: uuid.UUID) -> None:
        self.sql.count(q.TOUCH_RUN, {"run_id": run_id, "now": utcnow()})

    def stalled_runs(self, quiet_s: float) -> list[Row]:
        now = utcnow()
        return self.sql.all(q.STALLED_RUNS, {"cutoff": now - dt.timedelta(seconds=quiet_s), "now": now})

    # -- a worker's claims ------------------------------------------------------------------
    def claim(self, run: Row, owner: str, limit: int, lease_s: float) -> list[dict[str, Any]]:
        """Up to ``limit`` pairs of the run's scope for ``owner``, each with its entry's text."""
        now = utcnow()
        rows = self.sql.all(q.CLAIM, {**RunScope.of(run).params(now), "owner": owner, "limit": limit,
                                      "expires": now + dt.timedelta(seconds=lease_s)})
        return [{"id": r["id"], "entry_id": r["journal_entry_id"], "type": r["type"], "attempt": r["attempts"],
                 "text": self.cipher.decrypt_json(r["ciphertext"])["text"]} for r in rows]

    def renew(self, ids: list[uuid.UUID], owner: str, lease_s: float) -> None:
        if ids:
            self.sql.count(q.RENEW, {"ids": ids, "owner": owner,
                                     "expires": utcnow() + dt.timedelta(seconds=lease_s)})

    def succeed(self, analysis_id: uuid.UUID, owner: str, result: dict[str, Any], versions: dict[str, str]) -> bool:
        confidence = result.get("confidence")
        return self.sql.count(q.SUCCEED, {
            "id": analysis_id, "owner": owner, "now": utcnow(), "versions": Jsonb(versions),
            "label": result.get("label") if isinstance(result.get("label"), str) else None,
            "confidence": float(confidence) if isinstance(confidence, int | float) else None,
            "ciphertext": self.cipher.encrypt_json(result)}) == 1

    def fail(self, analysis_id: uuid.UUID, owner: str, code: str, message: str) -> bool:
        return self.sql.count(q.FAIL, {"id": analysis_id, "owner": owner, "now": utcnow(),
                                       "error": Jsonb({"code": code, "message": message})}) == 1

    def release(self, analysis_id: uuid.UUID, owner: str) -> None:
        self.sql.count(q.RELEASE, {"id": analysis_id, "owner": owner, "now": utcnow()})

    # -- change detection -------------------------------------------------------------------
    def run_series(self, run: Row) -> list[Row]:
        types = sorted(run["versions"])
        return self.sql.all(q.RUN_SERIES, {"run_id": run["id"], "tenant_id": run["tenant_id"], "types": types,
                                           "keys": [run["versions"][t]["key"] for t in types]})

    def add_flags(self, run: Row, flags: list[dict[str, Any]]) -> int:
        """Store flags (a flag per analysis and kind, whoever computes it again); returns how many
        flags the run holds now."""
        if flags:
            cols = ("patient", "entry", "analysis", "type", "kind", "from", "to", "attention")
            arrays = {c: [f[c] for f in flags] for c in cols}
            self.sql.count(q.ADD_FLAGS, {
                "tenant_id": run["tenant_id"], "run_id": run["id"], "now": utcnow(),
                "patients": arrays["patient"], "entries": arrays["entry"], "analyses": arrays["analysis"],
                "types": arrays["type"], "kinds": arrays["kind"], "froms": arrays["from"], "tos": arrays["to"],
                "attention": arrays["attention"]})
        row = self.sql.one(q.RUN_FLAG_COUNT, {"run_id": run["id"]})
        return int(row["n"]) if row else 0

    def run_flags(self, run_id: uuid.UUID, limit: int = 100) -> list[dict[str, Any]]:
        return [self._flag_view(f, with_patient=True)
                for f in self.sql.all(q.RUN_FLAGS, {"run_id": run_id, "limit": limit})]

    # -- schedules --------------------------------------------------------------------------
    def schedules(self) -> list[Row]:
        """Every tenant that keeps journals, with its schedule (defaults where it set none)."""
        return self.sql.all(q.SCHEDULES, {})

    def schedule(self, tenant_id: uuid.UUID) -> Row | None:
        return self.sql.one(q.SCHEDULE, {"tenant_id": tenant_id})

    def set_schedule(self, tenant_id: uuid.UUID, *, time_zone: str, types: list[str] | None,
                     callback_url: str | None, enabled: bool) -> Row | None:
        return self.sql.one(q.SET_SCHEDULE, {"tenant_id": tenant_id, "time_zone": time_zone, "types": types,
                                             "callback_url": callback_url, "enabled": enabled, "now": utcnow()})


def progress(run: Row, counts: dict[str, int]) -> int:
    selected = run["selected"] or 0
    if not selected:
        return 0
    return min(99, int(100 * (counts["done"] + counts["failed"]) / selected))
