"""Forecasting job handlers: validated JSON series in, a forecast / risk / correlation out."""
from __future__ import annotations

from pydantic import ValidationError

from core.errors import ErrorCode
from tasks.contract import JobContext, JobError, Outcome


def handle_forecasting(ctx: JobContext) -> Outcome:
    from forecasting import service
    from tasks.forecast_models import predictor

    payload = ctx.payload["payload"]
    ctx.stage("modelling", 20)
    try:
        if ctx.type == "forecast":
            result = service.run_forecast(payload, predictor("forecast"))
        elif ctx.type == "deterioration":
            result = service.run_deterioration(payload, predictor("deterioration"))
        else:
            result = service.run_biometric_correlation(payload)
    except ValidationError:  # checked at the API already; a payload from an older version may not pass
        raise JobError(ErrorCode.INVALID_SERIES, "the payload no longer validates") from None
    version = result.get("model_version") if isinstance(result, dict) else None
    return Outcome(result, model_id=version, prompt_version=f"{ctx.type}@1")
