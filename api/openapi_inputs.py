"""The request bodies of POST /v1/jobs and /v1/batches as the API checks them, type by type.

pydantic's JobCreate says only ``type: string``; the API then refuses an unknown type, a type's
missing or blank text, an option that type does not take. Here each analysis type in the registry
becomes one ``oneOf`` branch that states those rules, so a body the document calls valid is one
the API accepts. What JSON Schema cannot state is said in prose: a series' timestamps must
ascend and its values lie in the instrument's range (422 INVALID_SERIES), and a callback may not
point into a blocked network (422 INVALID_CALLBACK_URL).
"""
from __future__ import annotations

from typing import Any

from core import config
from tasks.jobtypes import JobType, job_types, payload_model

# str.strip()'s whitespace, spelt out: a text of only these is refused as missing (JSON Schema's
# \s differs from Python's: it lacks \x1c-\x1f and \x85, and has \ufeff)
_PY_SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
GENERATION_OPTIONS: dict[str, Any] = {"max_new_tokens": {"type": ["integer", "null"], "minimum": 1, "maximum": 4096}}


def _text() -> dict:
    return {"type": "string", "minLength": 1, "maxLength": config.settings().max_text_chars,
            "pattern": f"[^{_PY_SPACE}]", "description": "Not blank. Stored encrypted."}


def _options(spec: JobType) -> dict:
    """The options a type takes (api.jobs._check_options): an LLM type's prompt choices and
    generation settings, scrub's surrogate switch, nothing for the others."""
    props: dict[str, Any] = {}
    if spec.kind == "llm":
        import prompts
        from llm.truncation import POLICIES

        props = {c.name: {"enum": list(c.values)} for c in prompts.get_type(spec.name).choices}
        props.update(GENERATION_OPTIONS, truncation={"enum": list(POLICIES)})
    elif spec.name == "scrub":
        props = {"surrogate": {"type": "boolean", "description": "Replace identifiers with realistic fakes"}}
    return {"type": "object", "properties": props, "additionalProperties": False}


def payload_schemas(defs: dict) -> dict[str, dict]:
    """Each payload type's input schema (its pydantic model), with shared definitions put in ``defs``."""
    from forecasting.instruments import INSTRUMENTS
    from forecasting.schemas import H_MAX, MAX_SERIES_LEN, MIN_CORRELATION_POINTS, MIN_DETERIORATION_OBS, MIN_FORECAST_OBS

    shortest = {"forecast": MIN_FORECAST_OBS, "deterioration": MIN_DETERIORATION_OBS,
                "biometric_correlation": MIN_CORRELATION_POINTS}
    out = {}
    for spec in job_types().values():
        if spec.input != "payload":
            continue
        schema = payload_model(spec.name).model_json_schema(ref_template="#/components/schemas/{model}")
        defs.update(schema.pop("$defs", {}))
        props = schema["properties"]
        props["instrument"] = {"enum": sorted(INSTRUMENTS)}
        for series in ("observations", "symptoms"):
            if series in props:
                props[series].update(minItems=shortest.get(spec.name, 1), maxItems=MAX_SERIES_LEN)
        if spec.name == "biometric_correlation":
            props["biometrics"].update(minItems=MIN_CORRELATION_POINTS, maxItems=MAX_SERIES_LEN)
        if "horizon" in props:
            props["horizon"] = {"type": "integer", "minimum": 1, "maximum": H_MAX, "default": 4}
        out[spec.name] = schema
    return out


def _inputs(spec: JobType, payloads: dict[str, dict]) -> tuple[dict, list[str]]:
    if spec.input == "payload":
        return {"payload": payloads[spec.name]}, ["payload"]
    if spec.input == "texts":
        return {"text": _text(), "previous_text": _text()}, ["text", "previous_text"]
    return {"text": _text()}, ["text"]


def job_create(base: dict, defs: dict) -> dict:
    """JobCreate: pydantic's fields, and one branch per analysis type."""
    payloads = payload_schemas(defs)
    branches = []
    for spec in job_types().values():
        inputs, required = _inputs(spec, payloads)
        branches.append({"title": spec.name, "required": ["type", *required],
                         "properties": {"type": {"const": spec.name}, **inputs, "options": _options(spec)}})
    base = dict(base)
    base["properties"] = {**base["properties"], "type": {"enum": list(job_types()), "description": "An analysis type "
                                                         "from /v1/analysis-types"}}
    base["oneOf"] = branches
    base["description"] = ("One analysis type's input: `text` (`text` and `previous_text` for two-text types, "
                           "`payload` for series types) and the options that type takes. A series must ascend in "
                           "time, values within the instrument's range (else 422 INVALID_SERIES); a callback_url "
                           "may not point into a blocked network (422 INVALID_CALLBACK_URL).")
    return base


def batch_create(base: dict, defs: dict) -> dict:
    """BatchCreate: its items follow the batch's type, as in job_create."""
    payloads = payload_schemas(defs)
    item_ref = base["properties"]["items"]["items"]
    branches = []
    for spec in job_types().values():
        inputs, required = _inputs(spec, payloads)
        item = {"allOf": [item_ref, {"required": required, "properties": inputs}]}
        branches.append({"title": spec.name,
                         "properties": {"type": {"const": spec.name}, "options": _options(spec),
                                        "items": {**base["properties"]["items"], "items": item}}})
    base = dict(base)
    base["properties"] = {**base["properties"], "type": {"enum": list(job_types())}}
    base["oneOf"] = branches
    return base
