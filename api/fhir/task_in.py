"""A posted Task → the body of a job request (the same fields as ``POST /v1/jobs``).

Parsing (fhir.resources' R4B model) refuses what is not a valid Task: 400. What is a valid Task
but not a job this deployment can run (no analysis type, no text, an attachment by URL, an
instrument without a LOINC code we know) is 422. Messages name the place (FHIRPath), never the
content.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

from fhir.resources.R4B.task import Task
from pydantic import ValidationError

from api.fhir import codes
from api.fhir.outcome import FhirProblem, fhirpath
from core.errors import ErrorCode

SERIES_TYPES = ("forecast", "deterioration")  # payload types whose input is one symptom series
SKIPPED_STATUSES = ("entered-in-error", "cancelled")  # Observations an EMR has withdrawn


def parse_task(raw: Any) -> Task:
    if not isinstance(raw, dict) or raw.get("resourceType") != "Task":
        raise FhirProblem(400, ErrorCode.INVALID_RESOURCE, "The body must be a FHIR Task resource.",
                          ["Task.resourceType"] if isinstance(raw, dict) else None)
    try:
        task = Task.model_validate(raw)
    except ValidationError as exc:
        where = []
        for err in exc.errors(include_url=False, include_input=False, include_context=False):
            loc = list(err["loc"])
            if err["type"] == "extra_forbidden":
                loc = loc[:-1]  # the unknown key is the client's own text: name its parent only
            if (path := fhirpath(loc)) not in where:
                where.append(path)
        raise FhirProblem(400, ErrorCode.INVALID_RESOURCE, "The Task is not a valid FHIR R4 resource.",
                          where[:20]) from None
    except (KeyError, TypeError, ValueError):  # e.g. a contained resource of an unknown type
        raise FhirProblem(400, ErrorCode.INVALID_RESOURCE, "The Task is not a valid FHIR R4 resource.",
                          ["Task.contained"]) from None
    unbound = [path for path, value, allowed in (("Task.status", task.status, codes.TASK_STATUSES),
                                                 ("Task.intent", task.intent, codes.TASK_INTENTS))
               if value not in allowed]
    if unbound:
        raise FhirProblem(400, ErrorCode.INVALID_RESOURCE, "The Task is not a valid FHIR R4 resource.", unbound)
    return task


def job_request(task: Task, inputs: Mapping[str, str]) -> dict[str, Any]:
    """The job request body for ``task``; ``inputs`` maps each analysis type to its input shape
    (text | texts | payload), as ``/v1/analysis-types`` lists them."""
    job_type = _analysis_type(task)
    shape = inputs.get(job_type)
    if shape is None:
        raise FhirProblem(422, ErrorCode.UNKNOWN_ANALYSIS_TYPE, "Unknown analysis type.", ["Task.code"],
                          {"known": sorted(inputs)})
    body: dict[str, Any] = {"type": job_type, "priority": codes.JOB_PRIORITY.get(task.priority or "", "interactive")}
    if (ref := _patient_ref(task)) is not None:
        body["patient_ref"] = ref
    found = _Inputs(task)
    if found.options:
        body["options"] = found.options
    if shape == "payload":
        if job_type not in SERIES_TYPES:
            raise FhirProblem(422, ErrorCode.MISSING_PAYLOAD, f"Type {job_type!r} is not offered through FHIR; "
                              "use POST /v1/jobs.", ["Task.code"])
        body["payload"] = found.series()
        if found.horizon is not None:
            body["payload"]["horizon"] = found.horizon
        return body
    body["text"] = found.texts.get("text")
    if shape == "texts":
        body["previous_text"] = found.texts.get("previous-text")
    elif "previous-text" in found.texts:
        raise FhirProblem(422, ErrorCode.VALIDATION_ERROR, f"Type {job_type!r} takes one text.", ["Task.input"])
    return body


def _analysis_type(task: Task) -> str:
    for coding in (task.code.coding or []) if task.code else []:
        if coding.system == codes.ANALYSIS_TYPE and coding.code:
            return str(coding.code)
    raise FhirProblem(422, ErrorCode.UNKNOWN_ANALYSIS_TYPE,
                      f"Task.code needs a coding with system {codes.ANALYSIS_TYPE} naming the analysis type.",
                      ["Task.code"])


def _patient_ref(task: Task) -> str | None:
    subject = task.for_fhir
    if subject is None:
        return None
    if subject.reference:
        return str(subject.reference)
    if subject.identifier is not None and subject.identifier.value:
        return f"{subject.identifier.system or ''}|{subject.identifier.value}"
    raise FhirProblem(422, ErrorCode.VALIDATION_ERROR, "Task.for needs a reference or an identifier.", ["Task.for"])


class _Inputs:
    """Task.input sorted out: texts by role, the horizon, and the symptom Observations."""

    def __init__(self, task: Task):
        self.contained = {f"#{r.id}": (i, r) for i, r in enumerate(task.contained or []) if r.id}
        self.texts: dict[str, str] = {}
        self.horizon: int | None = None
        self.options: dict[str, Any] = {}  # checked by the job path like /v1's options (unknown keys refused)
        self.observations: list[tuple[int, Any]] = []
        for i, item in enumerate(task.input or []):
            self._take(i, item)
        if not self.observations:  # none referenced: a series may also simply be contained
            self.observations = [(i, r) for i, r in enumerate(task.contained or [])
                                 if r.get_resource_type() == "Observation"]

    def _take(self, i: int, item: Any) -> None:
        where = f"Task.input[{i}]"
        role = next((str(c.code) for c in (item.type.coding or []) if c.system == codes.TASK_INPUT and c.code), None)
        if role == "horizon":
            value = item.valueInteger if item.valueInteger is not None else item.valuePositiveInt
            if value is None:
                raise FhirProblem(422, ErrorCode.VALIDATION_ERROR, "The horizon input needs valueInteger.", [where])
            self.horizon = int(value)
            return
        if role not in (None, "text", "previous-text"):  # an option (max_new_tokens, truncation, ...)
            value = next((v for v in (item.valueInteger, item.valuePositiveInt, item.valueBoolean, item.valueString,
                                      item.valueCode) if v is not None), None)
            if value is None:
                raise FhirProblem(422, ErrorCode.INVALID_OPTION, "An option input needs valueInteger, valueBoolean, "
                                  "valueString or valueCode.", [where])
            self.options[role] = value if isinstance(value, bool | int) else str(value)
            return
        text: str | None = None
        if item.valueString is not None:
            text = str(item.valueString)
        elif item.valueAttachment is not None:
            text = _attachment_text(item.valueAttachment, f"{where}.valueAttachment")
        elif item.valueReference is not None:
            found = self.contained.get(str(item.valueReference.reference or ""))
            if found is None:
                raise FhirProblem(422, ErrorCode.VALIDATION_ERROR, "Only references to contained resources "
                                  "(#id) are read; nothing is fetched.", [f"{where}.valueReference"])
            k, resource = found
            resource = cast(Any, resource)  # a contained resource of any type: checked just below
            kind = resource.get_resource_type()
            if kind == "Observation":
                self.observations.append((k, resource))
                return
            if kind != "DocumentReference":
                raise FhirProblem(422, ErrorCode.VALIDATION_ERROR, "An input may reference a contained "
                                  "DocumentReference or Observation.", [f"{where}.valueReference"])
            if not resource.content:
                raise FhirProblem(422, ErrorCode.MISSING_TEXT, "The DocumentReference has no content.",
                                  [f"Task.contained[{k}].content"])
            text = _attachment_text(resource.content[0].attachment, f"Task.contained[{k}].content[0].attachment")
        else:
            raise FhirProblem(422, ErrorCode.VALIDATION_ERROR, "A text input is valueAttachment, valueString or "
                              "valueReference to a contained DocumentReference.", [where])
        role = role or "text"
        if role in self.texts:
            raise FhirProblem(422, ErrorCode.VALIDATION_ERROR, f"More than one '{role}' input.", [where])
        self.texts[role] = text

    def series(self) -> dict[str, Any]:
        if not self.observations:
            raise FhirProblem(422, ErrorCode.MISSING_PAYLOAD, "A forecast Task contains the PHQ-9 (LOINC 44261-6) "
                              "or GAD-7 (LOINC 69737-5) Observations to forecast from.", ["Task.contained"])
        instruments, points = set(), []
        for k, obs in self.observations:
            if obs.status in SKIPPED_STATUSES:
                continue
            where = f"Task.contained[{k}]"
            instrument = next((codes.LOINC_INSTRUMENTS[str(c.code)] for c in (obs.code.coding or [])
                               if c.system == codes.LOINC and str(c.code) in codes.LOINC_INSTRUMENTS), None)
            if instrument is None:
                raise FhirProblem(422, ErrorCode.INVALID_SERIES, "Observation.code needs LOINC 44261-6 (PHQ-9) "
                                  "or 69737-5 (GAD-7).", [f"{where}.code"])
            instruments.add(instrument)
            points.append((_when(obs, where), _value(obs, where)))
        if len(instruments) > 1:
            raise FhirProblem(422, ErrorCode.INVALID_SERIES, "All Observations must be of one instrument.",
                              ["Task.contained"])
        points.sort(key=lambda p: p[0])  # a set of Observations has no order of its own
        return {"instrument": instruments.pop() if instruments else "PHQ-9",
                "observations": [{"timestamp": t.isoformat(), "value": v} for t, v in points]}


def _attachment_text(att: Any, where: str) -> str:
    content_type = (att.contentType or "text/plain").lower()
    mime, _, params = content_type.partition(";")
    charset = params.partition("charset=")[2].strip() or "utf-8"
    if mime.strip() != "text/plain" or charset not in ("utf-8", "utf8"):
        raise FhirProblem(422, ErrorCode.VALIDATION_ERROR, "Attachments are text/plain in UTF-8.",
                          [f"{where}.contentType"])
    if att.data is None:
        raise FhirProblem(422, ErrorCode.MISSING_TEXT, "Send the text in Attachment.data (base64); "
                          "Attachment.url is not fetched.", [f"{where}.data"])
    try:
        return bytes(att.data).decode("utf-8")
    except UnicodeDecodeError:
        raise FhirProblem(422, ErrorCode.VALIDATION_ERROR, "Attachment.data is not UTF-8 text.",
                          [f"{where}.data"]) from None


def _when(obs: Any, where: str) -> dt.datetime:
    value = obs.effectiveDateTime or obs.effectiveInstant or (obs.effectivePeriod.start if obs.effectivePeriod else None)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    raise FhirProblem(422, ErrorCode.INVALID_SERIES, "Each Observation needs effectiveDateTime to the day.",
                      [f"{where}.effectiveDateTime"])


def _value(obs: Any, where: str) -> float:
    if obs.valueQuantity is not None and obs.valueQuantity.value is not None:
        return float(obs.valueQuantity.value)
    if obs.valueInteger is not None:
        return float(obs.valueInteger)
    raise FhirProblem(422, ErrorCode.INVALID_SERIES, "Each Observation needs valueQuantity or valueInteger.",
                      [f"{where}.value"])
