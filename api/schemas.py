"""Request and response models (pydantic); /openapi.json is generated from them."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

Priority = Literal["interactive", "batch"]
State = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=64, description="An analysis type from /v1/analysis-types")
    text: str | None = Field(None, description="Patient text (journal entry, note). Stored encrypted.")
    previous_text: str | None = Field(None, description="The earlier text, for two-text types (progress)")
    payload: dict[str, Any] | None = Field(None, description="Structured input (forecasting types)")
    patient_ref: str | None = Field(None, min_length=1, max_length=128,
                                    description="The EMR's patient reference; stored encrypted and as a keyed hash")
    options: dict[str, Any] = Field(default_factory=dict)
    priority: Priority = "interactive"
    callback_url: AnyHttpUrl | None = None


class JobError(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class Job(BaseModel):
    id: uuid.UUID
    type: str
    state: State
    stage: str
    progress: int = Field(ge=0, le=100)
    priority: Priority
    batch_id: uuid.UUID | None = None
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    input_purged_at: dt.datetime | None = Field(
        None, description="When the retention purge erased the submitted input (MINDQ_INPUT_RETENTION_DAYS)")
    result: dict[str, Any] | None = Field(None, description="Only when succeeded")
    error: JobError | None = None
    links: dict[str, str] = Field(default_factory=dict)


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    previous_text: str | None = None
    payload: dict[str, Any] | None = None
    patient_ref: str | None = Field(None, min_length=1, max_length=128)


class BatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=64)
    items: list[BatchItem] = Field(min_length=1, max_length=1000)
    options: dict[str, Any] = Field(default_factory=dict)
    priority: Priority = "batch"


class Batch(BaseModel):
    id: uuid.UUID
    type: str
    priority: Priority
    total: int
    created_at: dt.datetime
    counts: dict[str, int]
    done: bool
    jobs: list[uuid.UUID]


class AnalysisType(BaseModel):
    name: str
    kind: Literal["cpu", "llm"]
    input: Literal["text", "texts", "payload"]
    description: str
    version: str
    labels: list[str] = Field(default_factory=list)


class ErrorBody(BaseModel):
    error: JobError
