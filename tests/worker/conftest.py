"""Fixtures: one tiny LLaMA + LoRA built per test session (fp32, CPU)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.config import ModelSettings
from llm.engine import Engine
from llm.loader import LoadedModel, load_model
from llm.tiny import build_tiny

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def tiny_paths(tmp_path_factory) -> tuple[Path, Path]:
    return build_tiny(tmp_path_factory.mktemp("models") / "tiny")


def settings_for(paths: tuple[Path, Path], *, adapter: bool = True, **kw) -> ModelSettings:
    base, lora = paths
    return ModelSettings(base_path=base, adapter_path=lora if adapter else None, dtype="fp32", **kw)


@pytest.fixture(scope="session")
def loaded(tiny_paths) -> LoadedModel:
    return load_model(settings_for(tiny_paths), device="cpu")


@pytest.fixture
def engine(loaded):
    eng = Engine(loaded, max_batch=8, progress_interval_s=3600)
    yield eng
    eng.shutdown()
