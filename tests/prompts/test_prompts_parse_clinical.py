"""Parser tables for mindq's own types: the JSON answer their templates ask for, and the
MentaLLaMA-style `label. Reasoning: ...` prose the model may give instead."""

import pytest

import prompts

CASES = [
    # (type, raw, label, confidence)
    ("depression", '{"label": "moderate", "confidence": 0.72, "rationale": "low mood"}',
     "moderate", 0.72),
    ("depression", 'Sure! ```json\n{"label": "Severe", "confidence": "85%", "rationale": "x"}\n```',
     "severe", 0.85),
    ("depression", '{"severity": "mild", "confidence": 60}', "mild", 0.6),
    ("depression", "none. Reasoning: The poster describes a good week.", "none", None),
    ("depression", "The signs of depression are mild. Reasoning: some sadness. Confidence: 0.4",
     "mild", 0.4),
    ("depression", "No signs of depression. Reasoning: x", "none", None),
    ("risk", '{"label": "high", "confidence": 0.93, "rationale": "a plan and a date"}', "high",
     0.93),
    ("risk", '{"label": "MEDIUM", "confidence": 0.5, "rationale": "ideation, no plan"}', "medium",
     0.5),
    ("risk", '{"label": "low", "confidence": 1, "rationale": "no ideation"}', "low", 1.0),
    ("risk", "The risk level is high. Reasoning: The poster has a plan.", "high", None),
    ("risk", "medium. Reasoning: passive ideation without a plan.", "medium", None),
    ("risk", "Risk: low\nReasoning: The post is about exams.", "low", None),
    ("risk", "The risk is not high, it is moderate. Reasoning: x", "medium", None),
    ("risk", '{"label": "medium-high", "confidence": 0.6}', "high", 0.6),
    ("risk", "The risk is low to moderate. Reasoning: x", "medium", None),
    ("wellness", '{"label": "good", "confidence": 0.8, "rationale": "exercise"}', "good", 0.8),
    ("wellness", "poor. Reasoning: isolation.", "poor", None),
    ("progress", '{"label": "improved", "confidence": 0.7, "rationale": "sleeps better"}',
     "improved", 0.7),
    ("progress", "The poster's mental state has worsened. Reasoning: new hopelessness.",
     "worsened", None),
    ("progress", "unchanged. Reasoning: both posts describe the same low mood.", "unchanged",
     None),
    ("progress", "It stayed the same. Reasoning: x", "unchanged", None),
    ("sentiment", '{"label": "negative", "confidence": 0.9, "rationale": "hopeless"}', "negative",
     0.9),
    ("sentiment", "positive. Reasoning: gratitude.", "positive", None),
    ("sentiment", "The sentiment of this post is neutral.", "neutral", None),
]

UNPARSED = [
    ("depression", '{"label": "purple", "confidence": 0.9}'),
    ("depression", "I cannot determine this from the post."),
    ("risk", ""),
    ("risk", "{not json"),
    ("risk", '{"confidence": 0.9, "rationale": "no label"}'),
    ("wellness", "Reasoning: The post is short."),
    ("progress", "Both posts are about work."),
    ("sentiment", "The post is mixed: some positive, some negative."),
]


@pytest.mark.parametrize("name,raw,label,confidence", CASES)
def test_clinical_answer(name, raw, label, confidence):
    result = prompts.parse(name, raw)
    assert result["label"] == label and result["parsed"] is True, result
    assert result.get("confidence") == confidence
    assert result["raw"] == raw
    assert result["prompt_version"] == f"{name}@1"


@pytest.mark.parametrize("name,raw", UNPARSED)
def test_clinical_unparseable(name, raw):
    result = prompts.parse(name, raw)
    assert result["label"] is None and result["parsed"] is False, result
    assert "confidence" not in result


@pytest.mark.parametrize("raw,attention", [
    ('{"label": "high", "confidence": 0.9, "rationale": "plan"}', True),
    ('{"label": "medium", "confidence": 0.6, "rationale": "ideation"}', True),
    ('{"label": "low", "confidence": 0.9, "rationale": "none"}', False),
    ("low. Reasoning: x", False),
    ("gibberish", True),  # unreadable risk answers go to a person
    ("", True),
])
def test_risk_requires_attention(raw, attention):
    assert prompts.parse("risk", raw)["requires_attention"] is attention


def test_only_risk_reports_requires_attention():
    assert "requires_attention" not in prompts.parse("depression", "severe.")


@pytest.mark.parametrize("value,expected", [
    (0.5, 0.5), ("0.5", 0.5), (50, 0.5), ("50%", 0.5), (1, 1.0), (0, 0.0),
    (150, None), (-0.2, None), ("high", None), (True, None), (float("nan"), None), (None, None),
])
def test_confidence_values(value, expected):
    from prompts.answer import confidence_value
    assert confidence_value(value) == expected


def test_json_rationale_and_prose_fallback():
    result = prompts.parse("risk", 'Here: {"risk_level": "high", "reasoning": "a plan"} done')
    assert (result["label"], result["rationale"]) == ("high", "a plan")
    result = prompts.parse("risk", '{"label": "soon"} The risk is high. Reasoning: a plan.')
    assert (result["label"], result["rationale"]) == ("high", "a plan.")
