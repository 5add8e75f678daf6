"""The model card a model directory may carry (``mindq_model.json`` beside config.json).

It says what kind of model this is: ``demo`` (trained by mindq on public data, not for clinical
use) or ``production`` (anything without a card: real MentaLLaMA weights are served as they come),
which analysis types it was trained to answer, and its validation figures. Read from disk, never
by loading weights, so the API and the job layer can say what serves without a model in memory.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

CARD_FILE = "mindq_model.json"
KINDS = ("demo", "production")


@dataclass(frozen=True)
class ModelCard:
    kind: str = "production"
    name: str | None = None
    version: str | None = None
    answers: tuple[str, ...] | None = None  # None: no statement (a production model answers every type)
    summary: str | None = None
    validation: dict[str, Any] = field(default_factory=dict)

    @property
    def is_demo(self) -> bool:
        return self.kind == "demo"

    def trained_for(self, type_name: str) -> bool:
        return self.answers is None or type_name in self.answers

    def public(self) -> dict[str, Any]:
        """What health and the API show: kind, name, version, the types it answers."""
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "version": self.version}
        if self.is_demo:
            out["not_for_clinical_use"] = True
            out["summary"] = self.summary
        if self.answers is not None:
            out["answers"] = list(self.answers)
        return out


def read_card(base_path: Path | str) -> ModelCard:
    path = Path(base_path) / CARD_FILE
    try:
        stat = path.stat()
    except OSError:
        return ModelCard()
    return _parse(str(path), stat.st_mtime_ns)


@lru_cache(maxsize=16)
def _parse(path: str, _mtime_ns: int) -> ModelCard:
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return ModelCard()
    kind = raw.get("kind") if raw.get("kind") in KINDS else "production"
    answers = raw.get("answers")
    return ModelCard(kind=kind, name=raw.get("name"), version=str(raw["version"]) if "version" in raw else None,
                     answers=tuple(answers) if isinstance(answers, list) else None,
                     summary=raw.get("summary"), validation=raw.get("validation") or {})


def write_card(base_path: Path, card: dict[str, Any]) -> None:
    (Path(base_path) / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
