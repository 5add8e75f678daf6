"""Training and evaluation sets built from simulated patients."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .deterioration_features import SEQ_DAYS, DeteriorationSamples, future_label, sample_at
from .forecast_features import ForecastWindows, windows_from_series
from .instruments import INSTRUMENTS
from .schemas import MIN_DETERIORATION_OBS
from .simulator import BIOMETRIC_NAMES, SimulatedPatient

FORECAST_INSTRUMENTS = ("PHQ-9", "GAD-7", "mood")


def forecast_windows(patients: Sequence[SimulatedPatient],
                     instruments: Sequence[str] = FORECAST_INSTRUMENTS) -> ForecastWindows:
    parts = []
    for p in patients:
        for name in instruments:
            days, values = p.visits[name]
            w = windows_from_series(p.start_ordinal + days.astype(float), values, name, p.pid)
            if len(w):
                parts.append(w)
    return ForecastWindows.concat(parts)


def split_patients(patients: Sequence[SimulatedPatient], fractions: Sequence[float],
                   seed: int) -> list[list[SimulatedPatient]]:
    """Disjoint patient groups (never split one patient's windows across groups)."""
    order = np.random.default_rng(seed).permutation(len(patients))
    bounds = np.round(np.cumsum([0, *fractions]) / sum(fractions) * len(patients)).astype(int)
    return [[patients[i] for i in order[a:b]] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def deterioration_samples(patients: Sequence[SimulatedPatient],
                          instruments: Sequence[str] = FORECAST_INSTRUMENTS) -> DeteriorationSamples:
    """One sample per visit with >= 4 visits of history and a known 4-week outcome."""
    feats, seqs, labels, groups = [], [], [], []
    for p in patients:
        bio_all = np.stack([p.biometrics[n] for n in BIOMETRIC_NAMES], 1)
        padded = np.vstack([np.full((SEQ_DAYS, len(BIOMETRIC_NAMES)), np.nan), bio_all])
        for name in instruments:
            inst = INSTRUMENTS[name]
            days, values = p.visits[name]
            unit = inst.scale(values.astype(float))
            delta = inst.deterioration_delta / inst.span
            fdays = days.astype(float)
            for j in range(MIN_DETERIORATION_OBS - 1, len(days) - 1):
                label = future_label(fdays, unit, j, delta)
                if label < 0:
                    continue
                anchor = int(days[j])
                bio = padded[anchor + 1: anchor + 1 + SEQ_DAYS]  # rows anchor-41 .. anchor
                f, s = sample_at(fdays, unit, j, bio, delta)
                feats.append(f)
                seqs.append(s)
                labels.append(label)
                groups.append(p.pid)
    return DeteriorationSamples(np.array(feats), np.array(seqs, dtype=np.float32), np.array(labels),
                                np.array(groups))
