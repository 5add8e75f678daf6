"""Pydantic v2 models for the three job payloads.

Every series check raises ``PydanticCustomError`` with a stable ``type`` (the error
kind the API reports) and a message a clinician-facing client can show as is.
``validation_errors`` flattens a ``ValidationError`` into ``{field, kind, message}``.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .instruments import INSTRUMENTS

H_MAX = 8  # weeks ahead the forecaster is trained for
MIN_FORECAST_OBS = 4
MIN_DETERIORATION_OBS = 4
MIN_CORRELATION_POINTS = 3
MAX_SERIES_LEN = 5000
MAX_LAG_DAYS = 14

# Plausible physiological ranges; values outside are data errors, not outliers.
BIOMETRICS: dict[str, tuple[float, float]] = {
    "sleep_hours": (0.0, 24.0),
    "hrv": (1.0, 300.0),  # RMSSD, ms
    "steps": (0.0, 100_000.0),
    "resting_hr": (25.0, 220.0),
    "active_minutes": (0.0, 1440.0),
}

_STRICT = ConfigDict(extra="forbid", frozen=True)
# JSON numbers only: "12" or true as a score is a client bug, not something to coerce.
Number = Annotated[float, Strict()]


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise PydanticCustomError(
            "non_finite_value", "{what} must be a finite number, got {value}", {"what": what, "value": str(value)}
        )
    return value


def _to_datetime(value: Any) -> datetime:
    """Accept an ISO date or datetime (string or object); aware times are converted to UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise PydanticCustomError(
                "invalid_timestamp", "timestamp '{value}' is not an ISO 8601 date or datetime", {"value": value}
            ) from None
    else:
        raise PydanticCustomError(
            "invalid_timestamp", "timestamp must be an ISO 8601 date or datetime string", {"value": repr(value)}
        )
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


class Observation(BaseModel):
    model_config = _STRICT
    timestamp: datetime
    value: Number

    @field_validator("timestamp", mode="before")
    @classmethod
    def _parse_timestamp(cls, v: Any) -> datetime:
        return _to_datetime(v)

    @field_validator("value")
    @classmethod
    def _finite_value(cls, v: float) -> float:
        return _finite(v, "value")


class DailyBiometrics(BaseModel):
    """One day of wearable data; any measure may be null (not worn, not synced)."""

    model_config = _STRICT
    date: date
    sleep_hours: Number | None = None
    hrv: Number | None = None
    steps: Number | None = None
    resting_hr: Number | None = None
    active_minutes: Number | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _parse_date(cls, v: Any) -> dt.date:  # `date` here is the field
        return _to_datetime(v).date()

    @model_validator(mode="after")
    def _in_range(self) -> DailyBiometrics:
        for name, (low, high) in BIOMETRICS.items():
            v = getattr(self, name)
            if v is None:
                continue
            _finite(v, name)
            if not low <= v <= high:
                raise PydanticCustomError(
                    "value_out_of_range",
                    "{name} = {value} on {day} is outside the plausible range {low}..{high}",
                    {"name": name, "value": v, "day": self.date.isoformat(), "low": low, "high": high},
                )
        return self


def _check_instrument(name: str) -> str:
    if name not in INSTRUMENTS:
        raise PydanticCustomError(
            "unknown_instrument",
            "unknown instrument '{name}'; known: {known}",
            {"name": name, "known": ", ".join(INSTRUMENTS)},
        )
    return name


def _check_series(obs: list[Observation], minimum: int, what: str) -> list[Observation]:
    if len(obs) < minimum:
        raise PydanticCustomError(
            "series_too_short",
            "{what} needs at least {minimum} observations, got {n}",
            {"what": what, "minimum": minimum, "n": len(obs)},
        )
    if len(obs) > MAX_SERIES_LEN:
        raise PydanticCustomError(
            "series_too_long", "{what} has {n} observations; at most {maximum} are accepted",
            {"what": what, "n": len(obs), "maximum": MAX_SERIES_LEN},
        )
    for i in range(1, len(obs)):
        prev, cur = obs[i - 1].timestamp, obs[i].timestamp
        if cur == prev:
            raise PydanticCustomError(
                "duplicate_timestamp",
                "{what}: observations {i_prev} and {i} share the timestamp {ts}",
                {"what": what, "i_prev": i - 1, "i": i, "ts": cur.isoformat()},
            )
        if cur < prev:
            raise PydanticCustomError(
                "unsorted_timestamps",
                "{what}: timestamps must be in ascending order; observation {i} ({ts}) comes before "
                "observation {i_prev} ({ts_prev})",
                {"what": what, "i": i, "ts": cur.isoformat(), "i_prev": i - 1, "ts_prev": prev.isoformat()},
            )
    return obs


def _check_range(instrument: str, obs: list[Observation], field: str) -> None:
    inst = INSTRUMENTS[instrument]
    for i, o in enumerate(obs):
        if not inst.low <= o.value <= inst.high:
            raise PydanticCustomError(
                "value_out_of_range",
                "observation {i} ({ts}) has {instrument} score {value}, outside {low}..{high}",
                {"field": f"{field}.{i}.value", "i": i, "ts": o.timestamp.isoformat(), "instrument": instrument,
                 "value": o.value, "low": inst.low, "high": inst.high},
            )


def _check_biometric_days(days: list[DailyBiometrics], minimum: int) -> list[DailyBiometrics]:
    if len(days) < minimum:
        raise PydanticCustomError(
            "series_too_short", "biometrics need at least {minimum} days of data, got {n}",
            {"minimum": minimum, "n": len(days)},
        )
    if len(days) > MAX_SERIES_LEN:
        raise PydanticCustomError(
            "series_too_long", "biometrics have {n} days; at most {maximum} are accepted",
            {"n": len(days), "maximum": MAX_SERIES_LEN},
        )
    for i in range(1, len(days)):
        if days[i].date == days[i - 1].date:
            raise PydanticCustomError(
                "duplicate_timestamp", "biometrics: days {i_prev} and {i} are both {day}",
                {"i_prev": i - 1, "i": i, "day": days[i].date.isoformat()},
            )
        if days[i].date < days[i - 1].date:
            raise PydanticCustomError(
                "unsorted_timestamps", "biometrics: days must be ascending; day {i} ({day}) comes before day {i_prev}",
                {"i": i, "day": days[i].date.isoformat(), "i_prev": i - 1},
            )
    return days


class _SymptomSeries(BaseModel):
    model_config = _STRICT
    instrument: str
    observations: list[Observation]

    @field_validator("instrument")
    @classmethod
    def _known_instrument(cls, v: str) -> str:
        return _check_instrument(v)

    @model_validator(mode="after")
    def _values_in_range(self):
        _check_range(self.instrument, self.observations, "observations")
        return self


class ForecastRequest(_SymptomSeries):
    horizon: int = 4

    @field_validator("observations")
    @classmethod
    def _series(cls, v: list[Observation]) -> list[Observation]:
        return _check_series(v, MIN_FORECAST_OBS, "observations")

    @field_validator("horizon", mode="before")
    @classmethod
    def _horizon(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= H_MAX:
            raise PydanticCustomError(
                "horizon_out_of_range", "horizon must be a whole number of weeks from 1 to {h_max}, got '{value}'",
                {"h_max": H_MAX, "value": v},
            )
        return v


class DeteriorationRequest(_SymptomSeries):
    biometrics: list[DailyBiometrics] | None = None

    @field_validator("observations")
    @classmethod
    def _series(cls, v: list[Observation]) -> list[Observation]:
        return _check_series(v, MIN_DETERIORATION_OBS, "observations")

    @field_validator("biometrics")
    @classmethod
    def _days(cls, v: list[DailyBiometrics] | None) -> list[DailyBiometrics] | None:
        return _check_biometric_days(v, 0) if v else None  # [] means no wearable data


class BiometricCorrelationRequest(BaseModel):
    model_config = _STRICT
    instrument: str
    symptoms: list[Observation]
    biometrics: list[DailyBiometrics]
    max_lag: int = Field(default=7, ge=0, le=MAX_LAG_DAYS)
    min_overlap: int = Field(default=20, ge=8, le=1000)
    alpha: float = Field(default=0.05, gt=0.0, lt=0.5)
    detrend: bool = True
    method: Literal["pearson", "spearman"] = "spearman"

    @field_validator("instrument")
    @classmethod
    def _known_instrument(cls, v: str) -> str:
        return _check_instrument(v)

    @field_validator("symptoms")
    @classmethod
    def _series(cls, v: list[Observation]) -> list[Observation]:
        return _check_series(v, MIN_CORRELATION_POINTS, "symptoms")

    @field_validator("biometrics")
    @classmethod
    def _days(cls, v: list[DailyBiometrics]) -> list[DailyBiometrics]:
        return _check_biometric_days(v, MIN_CORRELATION_POINTS)

    @model_validator(mode="after")
    def _values_in_range(self):
        _check_range(self.instrument, self.symptoms, "symptoms")
        return self


def validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Flatten a pydantic ``ValidationError`` into ``{field, kind, message}`` for a 422 body."""
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or str((err.get("ctx") or {}).get("field", "payload"))
        kind = err["type"]
        if kind == "finite_number":  # pydantic's own kind for NaN/inf in a plain float field
            kind = "non_finite_value"
        out.append({"field": loc, "kind": kind, "message": err["msg"]})
    return out


_Payload = TypeVar("_Payload", bound=BaseModel)


def parse_payload_lines(lines: Iterable[Mapping[str, Any] | str], model: type[_Payload],
                        fields: tuple[str, ...]) -> tuple[list[tuple[str, _Payload]], list[dict]]:
    """A JSONL file of job payloads, as a clinic keeps them: each valid line's payload (only
    ``fields`` read) with its patient (the line's optional "patient", else its line number), and
    ``{"line", "errors"}`` for each skipped line (1-based). Errors never quote the line."""
    out, skipped = [], []
    for i, line in enumerate(lines, 1):
        try:
            obj = json.loads(line) if isinstance(line, str) else dict(line)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            req = model.model_validate({k: obj[k] for k in fields if k in obj})
        except ValidationError as exc:
            skipped.append({"line": i, "errors": validation_errors(exc)[:3]})
            continue
        except ValueError as exc:  # json.JSONDecodeError is one
            skipped.append({"line": i, "errors": [{"kind": "invalid_json", "message": str(exc)[:200]}]})
            continue
        out.append((str(obj.get("patient", f"line-{i}")), req))
    return out, skipped
