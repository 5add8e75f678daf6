"""A job (and its result) → a FHIR Task, the result contained in it.

The result is a RiskAssessment for ``risk`` and ``deterioration``, one Observation per forecast
week (point, and the interval as two components) for ``forecast``, and an Observation with the
label for the other analyses. Every completed Task also carries the whole mindq result as an
application/json attachment (``mindq-result``): provenance (model, prompt, parser and scrubber
versions) and anything else FHIR has no field for. Built as dicts, checked and serialised by
fhir.resources, so a mapping mistake fails loudly instead of reaching an EMR.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from fhir.resources.R4B.task import Task

from api.fhir import codes

WORSENING_WEEKS = 4  # the deterioration model's window (forecasting.predictors)
RISK_OUTCOMES = {"risk": "Suicide or self-harm", "deterioration": "Clinically meaningful worsening"}


def task_resource(job: dict[str, Any], result: dict[str, Any] | None, patient_ref: str | None,
                  description: str | None = None) -> Task:
    job_id = str(job["id"])
    task: dict[str, Any] = {
        "resourceType": "Task", "id": job_id,
        "meta": {"lastUpdated": _iso(job.get("finished_at") or job.get("started_at") or job["created_at"])},
        "identifier": [{"system": codes.JOB_ID, "value": job_id}],
        "status": codes.TASK_STATUS[job["state"]], "intent": "order",
        "priority": codes.TASK_PRIORITY.get(job.get("priority") or "", "urgent"),
        "businessStatus": {"coding": [{"system": codes.JOB_STAGE, "code": job["stage"]}], "text": job["stage"]},
        "code": {"coding": [{"system": codes.ANALYSIS_TYPE, "code": job["type"]}], "text": description or job["type"]},
        "authoredOn": _iso(job["created_at"]),
        "lastModified": _iso(job.get("finished_at") or job.get("started_at") or job["created_at"]),
        "extension": [{"url": codes.PROGRESS_EXT, "valueInteger": int(job.get("progress") or 0)}],
    }
    subject = _subject(patient_ref)
    if subject:
        task["for"] = subject
    period = {k: _iso(job[f]) for k, f in (("start", "started_at"), ("end", "finished_at")) if job.get(f)}
    if period:
        task["executionPeriod"] = period
    if job.get("error"):
        task["statusReason"] = {"coding": [{"system": codes.ERROR_CODE, "code": str(job["error"].get("code"))}],
                                "text": str(job["error"].get("message") or "")}
    if job["state"] == "succeeded" and result is not None:
        contained = result_resources(job, result, subject)
        task["contained"] = contained
        kind = "forecast" if job["type"] == "forecast" else "result"
        task["output"] = [{"type": {"coding": [{"system": codes.TASK_OUTPUT, "code": kind}]},
                           "valueReference": {"reference": f"#{r['id']}", "type": r["resourceType"]}}
                          for r in contained]
        task["output"].append({"type": {"coding": [{"system": codes.TASK_OUTPUT, "code": "mindq-result"}]},
                               "valueAttachment": {"contentType": "application/json",
                                                   "data": base64.b64encode(json.dumps(result).encode()).decode()}})
    return Task.model_validate(task)


def result_resources(job: dict[str, Any], result: dict[str, Any], subject: dict[str, Any] | None) -> list[dict]:
    issued = _iso(job.get("finished_at") or job["created_at"])
    if job["type"] == "forecast":
        return _forecast(result, subject, issued)
    if job["type"] in RISK_OUTCOMES:
        return [_risk(job["type"], result, subject, issued)]
    if "label" in result:
        return [_labelled(job["type"], result, subject, issued)]
    return []  # e.g. scrub: the mindq-result attachment alone


def _risk(job_type: str, result: dict[str, Any], subject: dict[str, Any] | None, issued: str | None) -> dict:
    prediction: dict[str, Any] = {"outcome": {"text": result.get("definition") or RISK_OUTCOMES[job_type]}}
    if job_type == "deterioration":
        prediction["probabilityDecimal"] = result["probability"]
        anchor = (result.get("biometric_window") or [None, None])[1]  # the day of the last score
        if anchor:
            end = dt.date.fromisoformat(anchor) + dt.timedelta(weeks=WORSENING_WEEKS)
            prediction["whenPeriod"] = {"start": anchor, "end": end.isoformat()}
    else:
        label = result.get("label")
        if label is not None:
            coding = [{"system": codes.RISK_LEVEL, "code": str(label)}]
            if str(label) in codes.HL7_RISK_CODES:
                coding.append({"system": codes.HL7_RISK, "code": codes.HL7_RISK_CODES[str(label)]})
            prediction["qualitativeRisk"] = {"coding": coding, "text": str(label)}
        # the model's confidence in its label is no probability of the outcome: it stays in mindq-result
        if result.get("rationale"):
            prediction["rationale"] = str(result["rationale"])
    out: dict[str, Any] = {
        "resourceType": "RiskAssessment", "id": "result",
        "status": "final" if result.get("parsed", True) else "preliminary",
        "subject": subject or {"display": "patient not given"},
        "occurrenceDateTime": issued,
        "method": {"coding": [{"system": codes.ANALYSIS_TYPE, "code": job_type}], "text": _model_text(result)},
        "prediction": [prediction],
    }
    if result.get("requires_attention") is not None:
        out["note"] = [{"text": "requires attention" if result["requires_attention"] else "no attention flag"}]
    return out


def _labelled(job_type: str, result: dict[str, Any], subject: dict[str, Any] | None, issued: str | None) -> dict:
    out: dict[str, Any] = {
        "resourceType": "Observation", "id": "result",
        "status": "final" if result.get("parsed", True) else "preliminary",
        "code": {"coding": [{"system": codes.ANALYSIS_TYPE, "code": job_type}], "text": job_type},
        "issued": issued, "method": {"text": _model_text(result)},
    }
    if subject:
        out["subject"] = subject
    label = result.get("label")
    if label is None:
        out["dataAbsentReason"] = {"text": "the model's answer did not parse"}
    else:
        out["valueCodeableConcept"] = {"coding": [{"system": f"{codes.LABEL}/{job_type}", "code": str(label)}],
                                       "text": str(label)}
    if isinstance(result.get("confidence"), int | float):
        out["component"] = [{"code": {"text": "confidence"}, "valueQuantity": {"value": result["confidence"]}}]
    if result.get("rationale"):
        out["note"] = [{"text": str(result["rationale"])}]
    return out


def _forecast(result: dict[str, Any], subject: dict[str, Any] | None, issued: str | None) -> list[dict]:
    instrument = result.get("instrument", "")
    coding = [{"system": codes.ANALYSIS_TYPE, "code": "forecast"}]
    if instrument in codes.INSTRUMENT_LOINC:
        coding.append({"system": codes.LOINC, "code": codes.INSTRUMENT_LOINC[instrument]})
    level = round(100 * float(result.get("interval_level", 0.9)))
    out = []
    for step in result.get("forecasts", []):
        obs: dict[str, Any] = {
            "resourceType": "Observation", "id": f"forecast-{step['week']}", "status": "preliminary",
            "code": {"coding": coding, "text": f"{instrument} forecast, week {step['week']}"},
            "effectiveDateTime": step["date"], "issued": issued,
            "method": {"text": f"{result.get('model_name', 'forecast')} {result.get('model_version', '')}".strip()},
            "valueQuantity": _score(step["point"]),
            "component": [
                {"code": {"coding": [{"system": codes.FORECAST_BOUND, "code": bound}],
                          "text": f"{level}% interval {bound} bound"}, "valueQuantity": _score(step[bound])}
                for bound in ("lower", "upper")],
        }
        if subject:
            obs["subject"] = subject
        out.append(obs)
    return out


def _score(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "{score}", "system": codes.UCUM, "code": "{score}"}


def _model_text(result: dict[str, Any]) -> str:
    parts = [str(result[k]) for k in ("model_id", "prompt_version") if result.get(k)]
    return " ".join(parts) or "mindq"


def _subject(patient_ref: str | None) -> dict[str, Any] | None:
    if not patient_ref:
        return None
    system, bar, value = patient_ref.partition("|")
    if bar:
        return {"identifier": {"system": system, "value": value} if system else {"value": value}}
    return {"reference": patient_ref}


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else str(value)
