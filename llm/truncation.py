"""Token-aware fitting of patient text into the model's context.

Policy (reported in every result that was shortened, never applied silently):

- ``head_tail`` (default): drop the *middle* of the patient text. Clinical notes and posts tend
  to state the presenting problem first and the current state last, so we keep the first
  ``head_fraction`` (25%) of the kept tokens and the last 75%, joined by `` [...] ``.
- ``tail``: drop the head, keep the most recent part of the text.
- ``head``: drop the end, keep the beginning.

Only the patient text is shortened; the prompt template (instructions, question, labels) is
always kept whole. The result says ``{"policy", "original_tokens", "kept_tokens"}`` counted in
tokens of the patient text.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

POLICIES = ("head_tail", "tail", "head")
MARKER = " [...] "


class PromptTooLongError(ValueError):
    """The prompt cannot fit the context (e.g. the template alone is too long)."""


@dataclass(frozen=True)
class FittedPrompt:
    prompt: str  # the rendered prompt to submit
    text: str  # the (possibly shortened) patient text inside it
    prompt_tokens: int
    truncated: dict[str, Any] | None  # None when the text was kept whole


def count_tokens(tokenizer: Any, text: str, *, special: bool = True) -> int:
    return len(tokenizer(text, add_special_tokens=special)["input_ids"])


def fit_prompt(
    text: str,
    render: Callable[[str], str],
    tokenizer: Any,
    *,
    max_context: int,
    max_new_tokens: int,
    policy: str = "head_tail",
    head_fraction: float = 0.25,
) -> FittedPrompt:
    """Render ``text``; if prompt + max_new_tokens exceeds ``max_context``, shorten the text by
    ``policy`` until it fits and report it."""
    if policy not in POLICIES:
        raise ValueError(f"unknown truncation policy {policy!r}; expected one of {POLICIES}")
    limit = max_context - max_new_tokens
    prompt = render(text)
    total = count_tokens(tokenizer, prompt)
    if total <= limit:
        return FittedPrompt(prompt, text, total, None)

    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offsets = enc["offset_mapping"]
    original = len(offsets)
    overhead = total - original
    keep = limit - overhead - count_tokens(tokenizer, MARKER, special=False)
    # Re-tokenization at the cut points can differ by a token or two: measure and tighten.
    for _ in range(16):
        if keep <= 0:
            break
        short = _cut(text, offsets, keep, policy, head_fraction)
        prompt = render(short)
        total = count_tokens(tokenizer, prompt)
        if total <= limit:
            return FittedPrompt(prompt, short, total, {
                "policy": policy, "original_tokens": original, "kept_tokens": keep})
        keep -= max(1, total - limit)
    raise PromptTooLongError(
        f"prompt template needs {overhead} tokens; with max_new_tokens={max_new_tokens} no patient "
        f"text fits a {max_context}-token context")


def _cut(text: str, offsets: list[tuple[int, int]], keep: int, policy: str,
         head_fraction: float) -> str:
    """The text reduced to ``keep`` of its tokens, cut at token boundaries."""
    if policy == "head":
        return text[: offsets[keep - 1][1]] + MARKER.rstrip()
    if policy == "tail":
        return MARKER.lstrip() + text[offsets[len(offsets) - keep][0]:]
    head = int(keep * head_fraction)
    tail = keep - head
    head_text = text[: offsets[head - 1][1]] if head else ""
    return head_text + MARKER + text[offsets[len(offsets) - tail][0]:]
