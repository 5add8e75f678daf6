"""parse(): raw model output -> a result dict. Never raises on any output."""

from typing import Any

from . import answer
from .matching import decide, undetermined
from .registry import get_type
from .spec import AnalysisType
from .vocabulary import VOCABULARIES

# Names the parsing (answer, matching, parsing, vocabulary): every result and cache key carries it,
# so a parser change reruns what it may read differently. tests/prompts/test_parser_version.py
# fails when those modules change without a bump.
PARSER_VERSION = "parser@1.0.0"

# Risk levels that send a result to a clinician's attention list.
ATTENTION_LEVELS = frozenset({"medium", "high"})


def _result(spec: AnalysisType, raw: str, label: str | None, rationale: str | None,
            confidence: float | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "label": label,
        "rationale": rationale,
        "raw": raw,
        "parsed": label is not None,
        "prompt_version": spec.version,
    }
    if confidence is not None and label is not None:
        result["confidence"] = confidence
    if spec.name == "risk":
        # An unreadable risk answer is also flagged: a person reads it rather than nobody.
        result["requires_attention"] = label is None or label in ATTENTION_LEVELS
    return result


def _from_json(spec: AnalysisType, text: str) -> tuple[str | None, Any, str | None]:
    obj = answer.json_object(text)
    if obj is None:
        return None, None, None
    label_text, confidence, rationale = answer.json_fields(obj)
    label = None
    if label_text is not None:
        label = decide(VOCABULARIES[spec.name], answer.clean(label_text))
    return label, confidence, rationale


def _from_prose(spec: AnalysisType, text: str) -> tuple[str | None, str | None]:
    """(label, rationale) of a `label. Reasoning: ...` answer or of free prose."""
    vocabulary = VOCABULARIES[spec.name]
    parts = answer.split(text)
    if parts.head is not None:
        return decide(vocabulary, parts.head), parts.rationale
    # No label before a `Reasoning:`: look for it in the prose, most explicit evidence first;
    # a label merely mentioned somewhere in the reasoning is not an answer.
    body = parts.rationale if parts.rationale is not None else parts.text
    sentence = answer.first_sentence(body)
    hedged = undetermined(body)
    label = decide(vocabulary, sentence, anchored_only=True)
    if label is None and not hedged:
        label = decide(vocabulary, body, strict=True, anchored_only=True)
    if label is None:
        label = decide(vocabulary, sentence)
    if label is None and not hedged:
        label = decide(vocabulary, answer.conclusions(body), strict=True)
    if parts.rationale is not None or label is None:
        return label, parts.rationale
    # Free prose: the reasoning is what follows the label sentence.
    rest = body[len(sentence):].strip() if body.startswith(sentence) else body
    return label, rest or None


def _parse(spec: AnalysisType, raw: str) -> dict[str, Any]:
    text = answer.clean(raw)
    if not text:
        return _result(spec, raw, None, None, None)
    label, confidence, rationale = None, None, None
    if spec.asks_confidence:
        label, confidence, rationale = _from_json(spec, text)
    if label is None:
        label, prose_rationale = _from_prose(spec, text)
        rationale = rationale or prose_rationale
    if confidence is None and spec.asks_confidence:
        confidence = answer.confidence_in_text(text)
    return _result(spec, raw, label, rationale, answer.confidence_value(confidence))


def parse(analysis_type: str, raw: object) -> dict[str, Any]:
    """The result of one analysis from the model's raw output.

    Keys: label (one of the type's labels, or None), confidence (only when the answer gives
    one), rationale, raw (the output as given, decoded to str), parsed (label is not None),
    prompt_version; `risk` adds requires_attention (medium, high, or unparsed). Raises only
    UnknownAnalysisType for an unknown type; any output whatsoever gives a result.
    """
    spec = get_type(analysis_type)
    text = answer.as_text(raw)
    try:
        return _parse(spec, text)
    except Exception:  # a parser bug must cost one label, not the job: report it unparsed
        return _result(spec, text, None, None, None)
