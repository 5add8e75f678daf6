"""Taking a raw model answer apart: clean text, label segment, reasoning, JSON, confidence.

MentalLLaMA answers look like `Yes, the poster suffers from depression. Reasoning: ...`, but real
generations (MentalLLaMA examples/response_generation_examples, README) also start with
`Answer:` or with `Reasoning:` (sometimes `Reasoning: Yes, ... Reasoning: ...`), put the label
in a sentence without any `Reasoning:`, or leave the label out.
"""

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# Model answers are bounded by max_new_tokens; anything longer is not worth scanning in full.
SCAN_LIMIT = 32_000

_LEADING_MARKER = re.compile(
    r"^\s*(?:(?:correct\s+|final\s+)?answer|response|assistant|output|prediction|label|result)"
    r"\s*[:\-]\s*",
    re.IGNORECASE,
)
_REASONING_MARKER = re.compile(r"\b(?:reasoning|reasons?|explanation|rationale)\s*:\s*",
                               re.IGNORECASE)
# `A) School` / `B. Other causes` lines: the model listing the options, not choosing one.
_OPTION_LINE = re.compile(r"^[ \t]*\(?[A-Ia-i][.)][ \t]+[^\n]{1,80}$", re.MULTILINE)
_CONCLUSION = re.compile(
    r"^(?:therefore|thus|hence|overall|in\s+conclusion|in\s+summary|to\s+summarize|so),?\s",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_APOSTROPHES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'"})
_CONFIDENCE_TEXT = re.compile(
    r"\bconfidence(?:\s+(?:level|score))?\s*(?:[:=]|is|of)?\s*(\d{1,3}(?:\.\d+)?)\s*(%)?",
    re.IGNORECASE,
)
_LABEL_KEYS = ("label", "level", "risk_level", "risk", "severity", "sentiment", "trend",
               "answer", "prediction")
_CONFIDENCE_KEYS = ("confidence", "probability", "certainty", "score")
_RATIONALE_KEYS = ("rationale", "reasoning", "explanation", "reason")


@dataclass(frozen=True)
class Answer:
    """An answer split for label search: segments to try in order, and the reasoning."""

    text: str  # cleaned
    head: str | None  # text before `Reasoning:` when it holds something
    rationale: str | None  # text after `Reasoning:`


def as_text(raw: object) -> str:
    """Any raw model output as a str (bytes decoded leniently, None as "")."""
    if raw is None:
        return ""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw).decode("utf-8", "replace")
    return raw if isinstance(raw, str) else str(raw)


def clean(text: str) -> str:
    """Printable, single-spaced text with straight apostrophes (lines kept)."""
    text = text[:SCAN_LIMIT].encode("utf-8", "replace").decode("utf-8")
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " "
                   for ch in text)
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\s*\n\s*", "\n", text).strip()


def split(text: str) -> Answer:
    """Separate the label part from the reasoning of a cleaned answer."""
    while (marker := _LEADING_MARKER.match(text)) is not None:
        text = text[marker.end():]
    if len(_OPTION_LINE.findall(text)) >= 2:
        text = _OPTION_LINE.sub("", text).strip()
    markers = list(_REASONING_MARKER.finditer(text))
    if not markers:
        return Answer(text, None, None)
    first = markers[0]
    if text[:first.start()].strip(" \n.-*#"):
        return Answer(text, text[:first.start()].strip(), text[first.end():].strip() or None)
    # `Reasoning: Yes, the poster ... Reasoning: ...`: the label sits between the two markers.
    if len(markers) > 1:
        head = text[first.end():markers[1].start()].strip()
        return Answer(text, head or None, text[markers[1].end():].strip() or None)
    return Answer(text, None, text[first.end():].strip() or None)


def first_sentence(text: str) -> str:
    """The first sentence with words in it (list numbers such as `1.` are skipped)."""
    return next((s for s in sentences(text) if any(ch.isalpha() for ch in s)), "")



def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def conclusions(text: str) -> str:
    """The sentences that state a conclusion (`Therefore, ...`, `Overall, ...`)."""
    return " ".join(s for s in sentences(text) if _CONCLUSION.match(s))


def json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in `text` (models wrap it in prose or code fences), if any."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    tries = 0
    while start != -1 and tries < 8:
        try:
            value, _ = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
        tries += 1
    return None


def _first_value(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in obj.items()}
    for key in keys:
        if key in lowered and lowered[key] not in (None, ""):
            return lowered[key]
    return None


def json_fields(obj: dict[str, Any]) -> tuple[str | None, Any, str | None]:
    """(label text, confidence value, rationale) of a JSON answer."""
    label = _first_value(obj, _LABEL_KEYS)
    rationale = _first_value(obj, _RATIONALE_KEYS)
    return (
        label if isinstance(label, str) else None,
        _first_value(obj, _CONFIDENCE_KEYS),
        rationale.strip() if isinstance(rationale, str) and rationale.strip() else None,
    )


def confidence_value(value: Any) -> float | None:
    """A confidence in [0, 1] from 0.8, "0.8", 80, "80%"; None when it is not one."""
    if isinstance(value, bool):
        return None
    percent = False
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,3}(?:\.\d+)?)\s*(%)?\s*", value)
        if match is None:
            return None
        value, percent = float(match.group(1)), match.group(2) is not None
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    if percent or value > 1:
        value = value / 100
    return round(float(value), 4) if value <= 1 else None


def confidence_in_text(text: str) -> float | None:
    """A `Confidence: 0.8` / `confidence of 80%` statement in prose."""
    match = _CONFIDENCE_TEXT.search(text)
    if match is None:
        return None
    return confidence_value(match.group(1) + (match.group(2) or ""))
