"""A patient's history from the job inputs a deployment has received.

A clinic sends each forecast or deterioration request with the patient's series to date, so
one patient's jobs repeat and extend each other. Training on them as sent would count early
visits once per request and put copies of one patient on both sides of a backtest split; here
they become one series per (patient, instrument): every visit once (a later request's value
wins, being the correction), and the wearable days likewise.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from .schemas import DailyBiometrics, Observation


def patient_histories(inputs: Iterable[tuple[str, Mapping[str, Any]]]) -> tuple[list[dict], int]:
    """Training lines (``{"patient", "instrument", "observations"[, "biometrics"]}``, the
    shape ``--from FILE.jsonl`` reads) from (patient key, job input) pairs, oldest input first;
    and how many inputs were skipped because they could not be read as a series."""
    visits: dict[tuple[str, str], dict] = {}
    days: dict[tuple[str, str], dict] = {}
    skipped = 0
    for patient, payload in inputs:
        try:
            instrument = payload["instrument"]
            observations = [Observation.model_validate(o) for o in payload["observations"]]
            wearables = [DailyBiometrics.model_validate(b) for b in payload.get("biometrics") or []]
        except (KeyError, TypeError, ValidationError):
            skipped += 1
            continue
        key = (patient, str(instrument))
        visits.setdefault(key, {}).update((o.timestamp, o.value) for o in observations)
        days.setdefault(key, {}).update((b.date, b.model_dump(mode="json")) for b in wearables)
    lines = []
    for (patient, instrument), series in visits.items():
        line: dict[str, Any] = {"patient": patient, "instrument": instrument,
                                "observations": [{"timestamp": ts.isoformat(), "value": value}
                                                 for ts, value in sorted(series.items())]}
        if days[(patient, instrument)]:
            line["biometrics"] = [day for _, day in sorted(days[(patient, instrument)].items())]
        lines.append(line)
    return lines, skipped
