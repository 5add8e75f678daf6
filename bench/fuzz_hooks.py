"""schemathesis hooks for bench.fuzz (loaded through SCHEMATHESIS_HOOKS).

The document states every rule of a job or batch body that JSON Schema can (api/openapi_inputs.py),
but not that a series' timestamps ascend, nor which hosts a callback may not reach. So for the two
submission operations, bench.fuzz lets schemathesis's positive_data_acceptance (a body the document
calls valid must not get a 4xx other than auth, 404, 409, 429) pass a 422, and this check judges
it: such a body may be refused only with one of those two codes; any other means the document is
wrong.
"""
from __future__ import annotations

from typing import Any

import schemathesis

SUBMISSIONS = {"POST /v1/jobs", "POST /v1/batches"}
POLICY_CODES = {"INVALID_SERIES", "INVALID_CALLBACK_URL"}
# a FHIR Task's document lists the elements every Task needs and says in prose that the FHIR
# specification governs the rest (400 INVALID_RESOURCE) and which valid Tasks are not runnable jobs (422)
FHIR_TASK = "POST /fhir/r4/Task"
FHIR_PROSE_CODES = {400: {"INVALID_RESOURCE"}, 422: {"UNKNOWN_ANALYSIS_TYPE", "MISSING_TEXT", "INVALID_SERIES",
                                                     "VALIDATION_ERROR", "INVALID_OPTION", "MISSING_PAYLOAD"}}


@schemathesis.check
def fhir_task_refused_only_by_its_stated_rules(ctx: Any, response: Any, case: Any) -> bool | None:
    meta = case.meta
    if case.operation.label != FHIR_TASK or meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in FHIR_PROSE_CODES:
        return None
    try:
        code = response.json()["issue"][0]["details"]["coding"][0]["code"]
    except Exception:
        code = None
    if code in FHIR_PROSE_CODES[response.status_code]:
        return None
    raise AssertionError(f"a Task the document calls valid was refused: {response.status_code} {code}")


@schemathesis.check
def submission_refused_only_by_policy(ctx: Any, response: Any, case: Any) -> bool | None:
    meta = case.meta
    if case.operation.label not in SUBMISSIONS or meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 413, 415, 422):
        return None  # accepted, or refused for a reason the body is not to blame for (auth, rate)
    try:
        code = response.json()["error"]["code"]
    except Exception:
        code = None
    if response.status_code == 422 and code in POLICY_CODES:
        return None
    raise AssertionError(f"a body the document calls valid was refused: {response.status_code} {code}")
