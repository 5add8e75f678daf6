"""Request and response models of journals and re-analysis runs (pydantic; in /openapi.json)."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

RunState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
# what the API accepts, stated where JSON Schema can: a date-time string of the years 1900-2199 (not a
# number of seconds since 1970), a ref or text with a character other than a space
YEAR_PATTERN = "^(19|2[01])[0-9]{2}-"
# blank means ASCII spaces only: Python's str.isspace also counts \x1c-\x1f, JSON Schema's \s does not
BLANK = " \t\n\r\f\v"
NOT_BLANK = "[^ \\t\\n\\r\\f\\v]"
MAX_REF = 128


def _text_only(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("an ISO 8601 date-time string is expected")
    return value


Stamp = Annotated[AwareDatetime, BeforeValidator(_text_only), Field(json_schema_extra={"pattern": YEAR_PATTERN})]
PatientRef = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REF, pattern=NOT_BLANK)]


class JournalEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_id: str = Field(min_length=1, max_length=200, description="The client's id of the entry; stored as a keyed hash "
                          "and encrypted")
    written_at: Stamp = Field(description="When the patient wrote it (ISO 8601 with a time zone, years 1900-2199)")
    text: str = Field(min_length=1, json_schema_extra={"pattern": NOT_BLANK},
                      description="The entry's text; stored encrypted, scrubbed of PHI before any model sees it")

    @field_validator("written_at")
    @classmethod
    def _in_utc(cls, value: dt.datetime) -> dt.datetime:
        # ISO 8601 allows offsets PostgreSQL refuses (past +-15:59: a 500 there); the instant is what counts
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError("written_at is outside the years 1..9999 in UTC") from None


class JournalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[JournalEntryIn] = Field(min_length=1, max_length=1000)


class StoredEntry(BaseModel):
    entry_id: str
    id: uuid.UUID
    created: bool = Field(description="False: the same entry was stored before (a replay)")


class JournalStored(BaseModel):
    entries: list[StoredEntry]


class EntryAnalysis(BaseModel):
    type: str
    label: str | None
    confidence: float | None = None
    model_id: str | None
    prompt_version: str | None
    versions: dict[str, str] = Field(default_factory=dict, description="model_id, model_kind, prompt_version, "
                                     "parser_version, scrubber_version")
    run_id: uuid.UUID | None
    created_at: str | None


class JournalEntry(BaseModel):
    entry_id: str
    written_at: str
    text: str | None = Field(None, description="Only with ?include=text")
    analyses: list[EntryAnalysis]


class Journal(BaseModel):
    entries: list[JournalEntry]


class Flag(BaseModel):
    kind: Literal["label_change", "risk_increase", "negative_trend"]
    type: str
    entry_id: str
    from_: str | None = Field(None, alias="from")
    to: str | None
    requires_attention: bool
    run_id: uuid.UUID | None
    raised_at: str
    patient_ref: str | None = Field(None, description="In a run's summary only")


class Flags(BaseModel):
    flags: list[Flag]


class ReanalysisRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    types: list[str] | None = Field(None, min_length=1, max_length=32,
                                    description="LLM types that read one text; default: the tenant's nightly types")
    patient_refs: list[PatientRef] | None = Field(None, min_length=1, max_length=1000)
    since: Stamp | None = Field(None, description="Only entries written at or after this (years 1900-2199)")
    callback_url: AnyHttpUrl | None = Field(None, description="Signed POST when the run raised flags")


class RunCounts(BaseModel):
    selected: int
    done: int
    failed: int


class ReanalysisRun(BaseModel):
    id: uuid.UUID
    state: RunState
    trigger: Literal["api", "nightly", "cli"]
    types: list[str]
    versions: dict[str, dict[str, str]]
    since: str | None
    counts: RunCounts
    progress: int = Field(ge=0, le=100)
    flags_raised: int
    flags: list[Flag] | None = Field(None, description="The run's flags (first 100), with their patient_ref")
    error: dict[str, Any] | None = None
    created_at: str
    started_at: str | None
    finished_at: str | None
    links: dict[str, str]
