"""Token-aware fitting of patient text: explicit policies, always reported."""
from __future__ import annotations

import pytest

from llm.truncation import MARKER, PromptTooLongError, count_tokens, fit_prompt


def render(text: str) -> str:
    return f"USER: Consider this post: \"{text}\" Question: Does the poster suffer from depression? ASSISTANT:"


TEXT = " ".join(f"sentence {i} about sleep and mood." for i in range(200))


def test_short_text_untouched(loaded):
    fitted = fit_prompt("I feel fine.", render, loaded.tokenizer, max_context=512, max_new_tokens=32)
    assert fitted.truncated is None and fitted.text == "I feel fine."
    assert fitted.prompt == render("I feel fine.")


@pytest.mark.parametrize("policy", ["head_tail", "tail", "head"])
def test_long_text_fits_and_is_reported(loaded, policy):
    tok = loaded.tokenizer
    fitted = fit_prompt(TEXT, render, tok, max_context=256, max_new_tokens=32, policy=policy)
    assert count_tokens(tok, fitted.prompt) == fitted.prompt_tokens <= 256 - 32
    assert fitted.prompt_tokens >= 256 - 32 - 8  # uses the room it has
    info = fitted.truncated
    assert info["policy"] == policy
    assert info["original_tokens"] == count_tokens(tok, TEXT, special=False)
    assert 0 < info["kept_tokens"] < info["original_tokens"]
    assert fitted.prompt == render(fitted.text)
    if policy == "head_tail":
        assert fitted.text.startswith("sentence 0 ") and fitted.text.endswith("sentence 199 about sleep and mood.")
        assert MARKER in fitted.text
    elif policy == "tail":
        assert fitted.text.endswith("sentence 199 about sleep and mood.") and "sentence 0 " not in fitted.text
    else:
        assert fitted.text.startswith("sentence 0 ") and "sentence 199" not in fitted.text


def test_template_alone_too_long(loaded):
    with pytest.raises(PromptTooLongError, match="no patient text fits"):
        fit_prompt(TEXT, render, loaded.tokenizer, max_context=40, max_new_tokens=30)


def test_unknown_policy(loaded):
    with pytest.raises(ValueError, match="unknown truncation policy"):
        fit_prompt(TEXT, render, loaded.tokenizer, max_context=256, max_new_tokens=32, policy="random")
