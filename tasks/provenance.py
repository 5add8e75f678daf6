"""What produced an analysis: model, its kind, prompt, parser and scrubber versions.

Every LLM result carries these five, the result cache is keyed by them, and the nightly
re-analysis compares them to decide what is out of date. Computed from configuration and files
on disk (the model's identity hashes its config and adapter, its card says demo or production),
so any process can say what the gpu workers serve without loading the weights.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import prompts
from core import config
from llm.card import ModelCard, read_card
from llm.loader import model_identity
from tasks.scrubbing import scrub_version

KEYS = ("model_id", "model_kind", "prompt_version", "parser_version", "scrubber_version")


def served_card() -> ModelCard:
    return read_card(config.settings().model.base_path)


@lru_cache(maxsize=8)
def _identity(base: str, adapter: str | None, quant: str, _stamp: tuple) -> str:
    return model_identity(Path(base), Path(adapter) if adapter else None, quant)


def served_model_id() -> str:
    """The identity the gpu workers report for the configured model (llm.loader.model_identity)."""
    model = config.settings().model
    base, adapter = Path(model.base_path), model.adapter_path
    files = [base / "config.json", *(Path(adapter).glob("adapter_*") if adapter else ())]
    stamp = tuple((str(f), f.stat().st_mtime_ns) for f in files if f.exists())
    return _identity(str(base), str(adapter) if adapter else None, model.quant, stamp)


def current_versions(type_name: str, model_id: str | None = None) -> dict[str, str]:
    """The five provenance fields an analysis of ``type_name`` made now would carry.
    ``model_id``: the engine's own, where a model is loaded; else the configured one's."""
    return {
        "model_id": model_id or served_model_id(),
        "model_kind": served_card().kind,
        "prompt_version": prompts.prompt_version(type_name),
        "parser_version": prompts.PARSER_VERSION,
        "scrubber_version": scrub_version(),
    }
