"""The description of one analysis type (what the registry maps a name to)."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Choice:
    """A render field restricted to a fixed set of values, e.g. imhi.irf's risk_factor."""

    name: str
    values: tuple[str, ...]
    default: str
    description: str = ""


@dataclass(frozen=True)
class AnalysisType:
    """One analysis type: its prompt template, label set and what render() needs."""

    name: str
    number: int  # template revision; bumping it changes `version` and so cache keys
    description: str
    labels: tuple[str, ...]
    inputs: tuple[str, ...] = ("text",)  # free-text fields, "text" first
    choices: tuple[Choice, ...] = ()
    max_new_tokens: int = 256  # suggested generation budget for a complete answer
    family: str = "clinical"  # "clinical" (mindq's own) or "imhi" (MentaLLaMA's test sets)
    prompt_style: str = "vicuna-v1.1"  # "vicuna-v1.1" chat turn, or "imhi-query" (bare query)
    source: str | None = None  # the MentalLLaMA IMHI test set it reproduces, e.g. "DR"
    asks_confidence: bool = False  # the template asks for a JSON answer with a confidence
    extra_result_keys: tuple[str, ...] = field(default=())  # keys parse() adds, e.g. requires_attention

    @property
    def version(self) -> str:
        """The prompt version string, e.g. "depression@1"; part of every result and cache key."""
        return f"{self.name}@{self.number}"

    @property
    def template_file(self) -> str:
        return f"{self.name}.v{self.number}.txt"

    @property
    def fields(self) -> tuple[str, ...]:
        """Every keyword render() accepts besides `text`."""
        return self.inputs[1:] + tuple(c.name for c in self.choices)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (for GET /v1/analysis-types)."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "labels": list(self.labels),
            "inputs": list(self.inputs),
            "choices": [
                {"name": c.name, "values": list(c.values), "default": c.default,
                 "description": c.description}
                for c in self.choices
            ],
            "max_new_tokens": self.max_new_tokens,
            "family": self.family,
            "prompt_style": self.prompt_style,
            "source": self.source,
            "confidence": self.asks_confidence,
            "extra_result_keys": list(self.extra_result_keys),
        }
