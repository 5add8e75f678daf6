"""Entry points for the job layer: JSON payload in, JSON-serialisable result out.

Each raises ``pydantic.ValidationError`` on a bad payload; turn it into a 422 with
``forecasting.schemas.validation_errors(exc)``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .correlation import correlate
from .predictors import DeteriorationPredictor, ForecastPredictor
from .schemas import BiometricCorrelationRequest, DeteriorationRequest, ForecastRequest


def run_forecast(payload: Mapping[str, Any], predictor: ForecastPredictor) -> dict[str, Any]:
    return predictor.predict(ForecastRequest.model_validate(payload))


def run_deterioration(payload: Mapping[str, Any], predictor: DeteriorationPredictor) -> dict[str, Any]:
    return predictor.predict(DeteriorationRequest.model_validate(payload))


def run_biometric_correlation(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Model-free: no artefact needed."""
    return correlate(BiometricCorrelationRequest.model_validate(payload))
