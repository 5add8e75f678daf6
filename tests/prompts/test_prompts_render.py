import dataclasses

import pytest

import prompts
from prompts import ANALYSIS_TYPES, InvalidField, MissingField, UnknownAnalysisType

IMHI_TYPES = ["imhi.dr", "imhi.dreaddit", "imhi.loneliness", "imhi.irf", "imhi.multiwd",
              "imhi.sad", "imhi.cams", "imhi.swmh", "imhi.t-sid"]
CLINICAL_TYPES = ["depression", "risk", "wellness", "progress", "sentiment"]
POST = "I haven't slept properly in weeks and nothing feels worth doing anymore."


def _fields(name):
    return {"previous_text": "Work was fine and I saw friends."} if name == "progress" else {}


def test_registry_lists_every_type():
    assert sorted(ANALYSIS_TYPES) == sorted(CLINICAL_TYPES + IMHI_TYPES)


@pytest.mark.parametrize("name", CLINICAL_TYPES + IMHI_TYPES)
def test_every_type_renders_with_its_text_and_version(name):
    prompt = prompts.render(name, POST, **_fields(name))
    assert f'Consider this post: "{POST}"' in prompt or f'Current post: "{POST}"' in prompt
    assert "$" not in prompt  # every placeholder filled
    assert prompts.prompt_version(name) == f"{name}@1" == ANALYSIS_TYPES[name].version


@pytest.mark.parametrize("name", CLINICAL_TYPES + IMHI_TYPES)
def test_spec_is_frozen_and_describes_itself(name):
    spec = ANALYSIS_TYPES[name]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
    assert spec.labels and all(label == label.lower() for label in spec.labels)
    assert spec.inputs[0] == "text"
    assert spec.max_new_tokens > 0
    assert spec.to_dict()["version"] == spec.version


def test_registry_is_read_only():
    with pytest.raises(TypeError):
        ANALYSIS_TYPES["new"] = ANALYSIS_TYPES["risk"]  # type: ignore[index]


@pytest.mark.parametrize("name,question", [
    # MentalLLaMA test_data/test_instruction/*.csv wording, word for word
    ("imhi.dr", "Does the poster suffer from depression?"),
    ("imhi.dreaddit", "Does the poster suffer from stress?"),
    ("imhi.loneliness", "Does the poster suffer from loneliness?"),
    ("imhi.irf", "Does the post show risk of thwarted belongingness?"),
    ("imhi.multiwd", "Does the emotional wellness dimension exist in the post?"),
    ("imhi.sad", "What is the stress cause of this post?"),
    ("imhi.cams", "What cause of depression does this post show?"),
    ("imhi.swmh", "What mental disorder symptoms does this post show?"),
    ("imhi.t-sid", "What mental disorder does this post show?"),
])
def test_imhi_prompt_is_mentallama_query(name, question):
    assert prompts.render(name, "work, it has been a stressful week! hope it gets better.") == (
        'Consider this post: "work, it has been a stressful week! hope it gets better." '
        f"Question: {question}"
    )


@pytest.mark.parametrize("name", CLINICAL_TYPES)
def test_clinical_prompt_is_one_vicuna_turn(name):
    prompt = prompts.render(name, POST, **_fields(name))
    assert prompt.startswith("A chat between a curious user and an artificial intelligence")
    assert prompt.count("USER:") == 1 and prompt.endswith("ASSISTANT:")


def test_progress_renders_both_texts_in_order():
    prompt = prompts.render("progress", "Now I sleep well.", previous_text="I could not sleep.")
    assert prompt.index('Earlier post: "I could not sleep."') < prompt.index(
        'Current post: "Now I sleep well."')


@pytest.mark.parametrize("fields", [{}, {"previous_text": None}, {"previous_text": "  \n "}])
def test_progress_needs_previous_text(fields):
    with pytest.raises(MissingField, match="previous_text"):
        prompts.render("progress", POST, **fields)
    assert issubclass(MissingField, ValueError)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01"])
def test_empty_text_is_refused(text):
    with pytest.raises(MissingField):
        prompts.render("risk", text)


def test_non_string_text_is_refused():
    with pytest.raises(InvalidField):
        prompts.render("risk", b"bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize("call", [
    lambda: prompts.render("anxiety", POST),
    lambda: prompts.parse("anxiety", "yes"),
    lambda: prompts.prompt_version("IMHI.DR"),
    lambda: prompts.render(["risk"], POST),  # type: ignore[arg-type]
])
def test_unknown_type(call):
    with pytest.raises(UnknownAnalysisType) as info:
        call()
    assert isinstance(info.value, KeyError)
    assert "unknown analysis type" in str(info.value)


def test_unexpected_field_is_refused():
    with pytest.raises(InvalidField, match="previous_text"):
        prompts.render("risk", POST, previous_text="x")


@pytest.mark.parametrize("value,expected", [
    (None, "thwarted belongingness"),
    ("perceived burdensomeness", "perceived burdensomeness"),
    ("Perceived_Burdensomeness", "perceived burdensomeness"),
])
def test_irf_risk_factor(value, expected):
    prompt = prompts.render("imhi.irf", POST, risk_factor=value)
    assert prompt.endswith(f"Question: Does the post show risk of {expected}?")


@pytest.mark.parametrize("dimension", ANALYSIS_TYPES["imhi.multiwd"].choices[0].values)
def test_multiwd_dimension(dimension):
    prompt = prompts.render("imhi.multiwd", POST, dimension=dimension)
    assert prompt.endswith(f"Question: Does the {dimension} wellness dimension exist in the post?")


def test_choice_outside_its_values_is_refused():
    with pytest.raises(InvalidField, match="dimension"):
        prompts.render("imhi.multiwd", POST, dimension="financial")
