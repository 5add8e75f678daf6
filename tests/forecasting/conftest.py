"""Train the default models once per session (about a minute on one core: ~20 s forecast, ~35 s deterioration)."""
from __future__ import annotations

import pytest
import torch

from forecasting.training import load, train


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.fixture(scope="session")
def artefact_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("forecasting-artefacts")


@pytest.fixture(scope="session")
def forecast_info(artefact_dir, _one_thread):
    return train("forecast", artefact_dir, seed=0)


@pytest.fixture(scope="session")
def deterioration_info(artefact_dir, _one_thread):
    return train("deterioration", artefact_dir, seed=0)


@pytest.fixture(scope="session")
def forecaster(forecast_info):
    return load("forecast", forecast_info.path)


@pytest.fixture(scope="session")
def deterioration_model(deterioration_info):
    return load("deterioration", deterioration_info.path)
