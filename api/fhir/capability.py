"""GET /fhir/r4/metadata: what the facade offers, as a CapabilityStatement."""
from __future__ import annotations

import functools
from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from api.fhir import codes


@functools.lru_cache(maxsize=1)
def capability_statement(released: str) -> dict[str, Any]:
    statement = {
        "resourceType": "CapabilityStatement", "status": "active", "date": released, "kind": "instance",
        "publisher": "mindq", "name": "MindqFhirFacade", "title": "mindq FHIR R4 facade",
        "description": "Asynchronous mental-health text analysis as FHIR Tasks: POST a Task whose code "
                       f"({codes.ANALYSIS_TYPE}) names the analysis, read it back until it is completed; the "
                       "result is contained in it (RiskAssessment or Observation).",
        "software": {"name": "mindq"},
        "implementation": {"description": "mindq job API, FHIR facade"},
        "fhirVersion": codes.FHIR_VERSION, "format": [codes.FHIR_JSON, "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Each Task is a mindq job: Task.id is the job id, so /v1/jobs/<id>/events streams "
                             "its progress (Server-Sent Events). An Idempotency-Key header makes a create safe to "
                             "retry. Errors are OperationOutcome.",
            "security": {"cors": False, "description": "Authorization: Bearer <API key> (scopes jobs:write to "
                                                       "create, jobs:read to read)."},
            "resource": [{
                "type": "Task", "versioning": "no-version", "readHistory": False, "updateCreate": False,
                "conditionalCreate": False,
                "interaction": [{"code": "create"}, {"code": "read"}],
                "documentation": f"Task.code: {codes.ANALYSIS_TYPE}|<type> (see /v1/analysis-types). Task.for: "
                                 "the Patient. Text: Task.input valueAttachment (text/plain, base64), valueString "
                                 "or valueReference to a contained DocumentReference. forecast and deterioration: "
                                 "contained Observations, LOINC 44261-6 (PHQ-9) or 69737-5 (GAD-7), and an "
                                 f"optional {codes.TASK_INPUT}|horizon input (valueInteger, weeks).",
            }],
        }],
    }
    return CapabilityStatement.model_validate(statement).model_dump(mode="json", exclude_none=True)
