"""Inputs of the deterioration models, at one visit of a patient's course.

Label (simulation only): *clinically meaningful worsening* = any score observed within the
next 28 days (+1 day of visit jitter) at least the instrument's ``deterioration_delta``
worse than the score at the visit (PHQ-9 +5, GAD-7 +4, mood -2). Visits with no later
score in that window are left out (outcome unknown).

Two views of the same history:
* engineered features (for the logistic baseline, and the GRU's head), and
* a 42-day daily sequence (symptom level carried forward, visit flag, and per-biometric
  deviation from the window's own mean with a present flag) for the GRU.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .forecast_features import N_RECENT
from .simulator import BIOMETRIC_NAMES

SEQ_DAYS = 42
HORIZON_DAYS = 29
SYMPTOM_FEATURES = ("last", "recent_mean", "last_minus_recent", "last_minus_previous", "slope_6", "std_6",
                    "last_minus_min_16w", "last_minus_baseline", "weeks_since_start", "visits_8w", "room_to_worsen",
                    "threshold")
BIOMETRIC_FEATURES = ("has_wearable", "sleep_7d_change", "sleep_3d_change", "hrv_7d_log_change",
                      "steps_7d_log_change", "resting_hr_7d_change")
FEATURES = SYMPTOM_FEATURES + BIOMETRIC_FEATURES
# Which features and sequence channels each biometric owns (for occlusion).
BIOMETRIC_GROUPS = {
    "sleep_hours": (("sleep_7d_change", "sleep_3d_change"), (2, 3)),
    "hrv": (("hrv_7d_log_change",), (4, 5)),
    "steps": (("steps_7d_log_change",), (6, 7)),
    "resting_hr": (("resting_hr_7d_change",), (8, 9)),
}
N_CHANNELS = 10
DEVIATION_CHANNELS = (2, 4, 6, 8)  # wearable deviations; each is followed by its present flag


@dataclass
class DeteriorationSamples:
    features: np.ndarray  # (N, len(FEATURES))
    sequence: np.ndarray  # (N, SEQ_DAYS, N_CHANNELS)
    label: np.ndarray  # (N,) 0/1, or -1 unknown
    group: np.ndarray  # (N,) patient id

    def __len__(self) -> int:
        return len(self.label)

    def subset(self, mask: np.ndarray) -> DeteriorationSamples:
        return DeteriorationSamples(self.features[mask], self.sequence[mask], self.label[mask], self.group[mask])

    @staticmethod
    def concat(parts: list[DeteriorationSamples]) -> DeteriorationSamples:
        return DeteriorationSamples(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                                      ("features", "sequence", "label", "group")))


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(x, y, 1)[0]) if len(x) >= 2 and np.ptp(x) > 0 else 0.0


def symptom_features(days: np.ndarray, unit: np.ndarray, j: int, delta_unit: float) -> np.ndarray:
    d, u = days[: j + 1], unit[: j + 1]
    last = u[-1]
    recent = u[-N_RECENT:].mean()
    w6 = slice(max(0, j - 5), j + 1)
    in16 = d >= d[-1] - 16 * 7
    return np.array([
        last, recent, last - recent, last - (u[-2] if j >= 1 else last), _slope(d[w6] / 7.0, u[w6]), u[w6].std(),
        # time and visit counts capped at what the simulated courses span (no linear extrapolation)
        last - u[in16].min(), last - u[0], min((d[-1] - d[0]) / 7.0, 52.0), min(float((d >= d[-1] - 56).sum()), 9.0),
        1.0 - last,
        delta_unit,
    ])


# How a wearable value compares with a reference value, per biometric (order of BIOMETRIC_NAMES):
# hours for sleep, log-ratios for HRV and steps (multiplicative, person-specific scales),
# tens of beats per minute for resting heart rate.
DEVIATIONS = (
    lambda x, ref: x - ref,
    lambda x, ref: np.log(x / ref),
    lambda x, ref: np.log((x + 100) / (ref + 100)),
    lambda x, ref: (x - ref) / 10.0,
)


def _nanmean(col: np.ndarray) -> float:
    col = col[~np.isnan(col)]
    return float(col.mean()) if len(col) else np.nan


def biometric_features(bio: np.ndarray) -> np.ndarray:
    """Recent change of each wearable measure over the last 28 rows of ``bio`` (anchor last).

    Change = deviation of the mean of the most recent days from the mean of the 21 days
    before them; 0 when either part has no data (the value a missing wearable gets).
    """
    b = bio[-28:]

    def change(k: int, recent: int) -> float:
        now, before = _nanmean(b[28 - recent:, k]), _nanmean(b[:21, k])
        return 0.0 if np.isnan(now) or np.isnan(before) else float(DEVIATIONS[k](now, before))

    has_wearable = float((~np.isnan(b[:, 0])).sum() >= 7)
    return np.array([has_wearable, change(0, 7), change(0, 3), change(1, 7), change(2, 7), change(3, 7)])


def daily_sequence(days: np.ndarray, unit: np.ndarray, j: int, bio: np.ndarray) -> np.ndarray:
    """(SEQ_DAYS, N_CHANNELS) daily view ending on the anchor day."""
    anchor = int(np.floor(days[j]))
    seq = np.zeros((SEQ_DAYS, N_CHANNELS))
    offsets = np.floor(days[: j + 1]).astype(int) - (anchor - SEQ_DAYS + 1)
    # symptom level carried forward (from the last score before the window on its first days)
    last = np.searchsorted(offsets, np.arange(SEQ_DAYS), side="right") - 1
    seq[:, 0] = unit[np.maximum(last, 0)]
    seq[offsets[offsets >= 0], 1] = 1.0
    for k, deviation in enumerate(DEVIATIONS):
        col = bio[:, k]
        present = ~np.isnan(col)
        if present.any():
            seq[present, 2 + 2 * k] = deviation(col[present], col[present].mean())
            seq[present, 3 + 2 * k] = 1.0
    return seq


def future_label(days: np.ndarray, unit: np.ndarray, j: int, delta_unit: float) -> int:
    ahead = (days > days[j]) & (days <= days[j] + HORIZON_DAYS)
    if not ahead.any():
        return -1
    return int((unit[ahead] >= unit[j] + delta_unit - 1e-9).any())


def sample_at(days: np.ndarray, unit: np.ndarray, j: int, bio: np.ndarray, delta_unit: float):
    """(features, sequence) of the history up to visit ``j``; ``bio`` is (SEQ_DAYS, 4), anchor last."""
    feats = np.concatenate([symptom_features(days, unit, j, delta_unit), biometric_features(bio)])
    return feats, daily_sequence(days, unit, j, bio)


def empty_biometrics() -> np.ndarray:
    return np.full((SEQ_DAYS, len(BIOMETRIC_NAMES)), np.nan)
