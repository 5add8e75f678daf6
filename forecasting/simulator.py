"""Seeded synthetic patients: weekly questionnaires, daily mood and daily wearables.

The generative story (one patient, daily resolution, PHQ-9 points):

* **Course of treatment.** Baseline severity ~ U(10, 24). 50% *responders* improve
  exponentially by 40-75% of baseline (time constant 3-10 weeks), 20% *partial responders*
  by 15-35%, 30% *non-responders* drift by -0.05..+0.10 points/week.
* **Fluctuation.** A slow AR(1) deviation (daily phi 0.96, stationary sd ~2 points) that a
  forecaster can partly learn (mean reversion), unlike measurement noise.
* **Relapses.** Episodes with hazard ~2%/week after week 6 (1.5% for non-responders).
  Each is a *sleep deficit* of 1-2.5 h that ramps up over 7-14 days, lasts 2-6 weeks and
  recovers over ~3 weeks; symptoms follow the deficit ``sleep_lag_days`` later (default 3),
  scaled so that a full episode adds 5-10 points. So sleep leads symptoms by a known lag.
* **Daily sleep noise** (AR(1) 0.2, sd 0.9 h) also leaks into symptoms at the same lag
  (1.5 points per hour), so
  the lag is visible outside relapses too.
* **Measurement.** Visits every week (60% of patients), every 2 weeks (25%) or every 4
  weeks (15%), +-1 day jitter, score ``round(latent + N(0, s))`` with a
  per-patient retest sd ``s`` ~ U(2, 3), clipped to the range. Each visit is missed with a
  per-patient probability ~ U(0.05, 0.30), plus occasional 2-4 week gaps.
  GAD-7 shares 60% of the PHQ-9 latent (rescaled) plus its own AR deviation and noise.
  A weekly ``mood`` (1-10, higher better) rating is taken at the same visits, and a daily
  mood rating (20% of days missing) serves the correlation job.
* **Wearables.** ``hrv`` falls with same-day severity (lag 0), ``steps`` fall with the
  previous day's severity (lag 1), ``sleep_hours`` *leads* severity (above) and
  ``resting_hr`` is a **null biometric**: its own AR noise, unrelated to symptoms.
  20% of patients have no wearable; otherwise 10% of days are missing and 5% of single
  measures are null.

Nothing here is tuned to make the models look good: the retest noise alone caps how well
any forecaster can do (MAE >= ~1.6-2.4 points even with perfect knowledge of the latent).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from .instruments import INSTRUMENTS

BIOMETRIC_NAMES = ("sleep_hours", "hrv", "steps", "resting_hr")
PATIENT_KINDS = ("responder", "partial", "non_responder")
_EPOCH = date(2023, 1, 2).toordinal()


@dataclass
class SimulatedPatient:
    pid: int
    kind: str
    start_ordinal: int  # proleptic Gregorian ordinal of day 0
    n_days: int
    latent: np.ndarray  # daily PHQ-9-scale severity, before measurement noise
    retest_sd: float
    sleep_lag_days: int
    cadence_weeks: int  # planned weeks between visits
    relapse_onsets: list[int]  # day offsets at which symptom worsening starts
    visits: dict[str, tuple[np.ndarray, np.ndarray]]  # instrument -> (day offsets, scores), observed only
    scheduled_visit_days: np.ndarray  # every planned weekly visit day (observed or missed)
    daily_mood: tuple[np.ndarray, np.ndarray]  # (day offsets, 1..10 ratings), observed days only
    biometrics: dict[str, np.ndarray] = field(default_factory=dict)  # name -> daily values, NaN = missing

    def observations(self, instrument: str, until_day: int | None = None) -> list[dict]:
        """The instrument's visits as request observations (ISO dates), optionally up to a day."""
        days, values = self.visits[instrument]
        keep = days <= until_day if until_day is not None else np.ones(len(days), bool)
        return [
            {"timestamp": self.date_of(d).isoformat(), "value": float(v)}
            for d, v in zip(days[keep], values[keep], strict=True)
        ]

    def mood_observations(self) -> list[dict]:
        days, values = self.daily_mood
        return [{"timestamp": self.date_of(d).isoformat(), "value": float(v)}
                for d, v in zip(days, values, strict=True)]

    def biometric_records(self, first_day: int = 0, last_day: int | None = None,
                          names: tuple[str, ...] = BIOMETRIC_NAMES) -> list[dict]:
        """Daily biometric records (null for missing measures; fully missing days are left out)."""
        last_day = self.n_days - 1 if last_day is None else last_day
        records = []
        for d in range(max(first_day, 0), min(last_day, self.n_days - 1) + 1):
            rec = {name: (None if np.isnan(self.biometrics[name][d]) else float(self.biometrics[name][d]))
                   for name in names if name in self.biometrics}
            if any(v is not None for v in rec.values()):
                records.append({"date": self.date_of(d).isoformat(), **rec})
        return records

    def date_of(self, day: int) -> date:
        return date.fromordinal(self.start_ordinal + int(day))


def _ar1(rng: np.random.Generator, n: int, phi: float, sd_stationary: float) -> np.ndarray:
    innov = rng.normal(0.0, sd_stationary * np.sqrt(1 - phi**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sd_stationary)
    for t in range(1, n):
        out[t] = phi * out[t - 1] + innov[t]
    return out


def _lagged(x: np.ndarray, lag: int) -> np.ndarray:
    """x shifted ``lag`` days later (x[t - lag]); the first days repeat x[0]."""
    if lag == 0:
        return x.copy()
    return np.concatenate([np.full(lag, x[0]), x[:-lag]])


def _relapse_deficit(rng: np.random.Generator, n_days: int, hazard_per_week: float, first_week: int):
    """Sleep-deficit curve (hours) of all relapse episodes, and their symptom onset days."""
    deficit = np.zeros(n_days)
    onsets: list[int] = []
    week = first_week
    while week * 7 < n_days:
        if rng.random() < hazard_per_week:
            start = week * 7 + int(rng.integers(0, 7))
            depth = rng.uniform(1.0, 2.5)
            ramp, plateau, recover = int(rng.integers(7, 15)), int(rng.integers(14, 43)), 21
            t = np.arange(n_days) - start
            shape = np.clip(t / ramp, 0, 1)
            after = t - ramp - plateau
            shape = np.where(after > 0, np.exp(-after / (recover / 3)), shape)
            deficit += depth * np.where(t >= 0, shape, 0.0)
            onsets.append(start)
            week += (ramp + plateau + recover) // 7  # no overlapping episodes
        week += 1
    return deficit, onsets


def simulate_patient(rng: np.random.Generator, pid: int, *, sleep_lag_days: int = 3,
                     n_weeks: int | None = None) -> SimulatedPatient:
    n_weeks = int(rng.integers(20, 53)) if n_weeks is None else n_weeks
    n_days = n_weeks * 7 + 7
    t_weeks = np.arange(n_days) / 7.0
    kind = str(rng.choice(PATIENT_KINDS, p=[0.5, 0.2, 0.3]))
    baseline = rng.uniform(10, 24)
    if kind == "non_responder":
        level = baseline + rng.uniform(-0.05, 0.10) * t_weeks
        hazard = 0.015
    else:
        frac = rng.uniform(0.40, 0.75) if kind == "responder" else rng.uniform(0.15, 0.35)
        level = baseline - baseline * frac * (1 - np.exp(-t_weeks / rng.uniform(3, 10)))
        hazard = 0.02

    deficit, onsets_sleep = _relapse_deficit(rng, n_days, hazard, first_week=6)
    points_per_hour = rng.uniform(5, 10) / 2.5 * 1.3
    sleep_noise = _ar1(rng, n_days, 0.2, 0.9)
    latent = (
        level
        + _ar1(rng, n_days, 0.96, 2.0)
        + points_per_hour * _lagged(deficit, sleep_lag_days)
        - 1.5 * _lagged(sleep_noise, sleep_lag_days)
    )
    inst = INSTRUMENTS["PHQ-9"]
    latent = np.clip(latent, inst.low, inst.high)

    # Visits on the patient's cadence with jitter, missed visits and occasional gaps.
    cadence = int(rng.choice([1, 2, 4], p=[0.6, 0.25, 0.15]))
    n_visits = (n_weeks - 1) // cadence + 1
    sched = np.arange(n_visits) * 7 * cadence + 3 + rng.integers(-1, 2, n_visits)
    p_miss = rng.uniform(0.05, 0.30)
    observed = rng.random(n_visits) >= p_miss
    for _ in range(int(rng.poisson(0.5))):
        gap_start = int(rng.integers(2, n_visits))
        observed[gap_start: gap_start + max(1, int(rng.integers(2, 5)) // cadence)] = False
    observed[:2] = True  # intake visits always happen
    vdays = sched[observed]
    retest_sd = rng.uniform(2.0, 3.0)

    def score(x: np.ndarray, sd: float, name: str) -> np.ndarray:
        lim = INSTRUMENTS[name]
        return np.clip(np.round(x + rng.normal(0, sd, len(x))), lim.low, lim.high)

    gad_latent = 0.6 * latent * 21 / 27 + 3.0 + _ar1(rng, n_days, 0.95, 1.5)
    mood_of = lambda x: 8.5 - 0.22 * x  # the symptom-to-mood mapping
    visits = {
        "PHQ-9": (vdays, score(latent[vdays], retest_sd, "PHQ-9")),
        "GAD-7": (vdays, score(gad_latent[vdays], retest_sd * 0.8, "GAD-7")),
        "mood": (vdays, score(mood_of(latent[vdays]), 0.8, "mood")),
    }
    mood_days = np.flatnonzero(rng.random(n_days) >= 0.2)
    daily_mood = (mood_days, score(mood_of(latent[mood_days]), 0.7, "mood"))

    biometrics = {}
    sleep = rng.uniform(6.3, 7.8) + sleep_noise - deficit
    biometrics["sleep_hours"] = np.clip(sleep, 2.0, 13.0)
    biometrics["hrv"] = np.clip(rng.uniform(35, 75) * np.exp(-0.02 * (latent - 10)) + rng.normal(0, 5, n_days), 5, 250)
    steps_base = rng.uniform(4000, 10000)
    biometrics["steps"] = np.clip(
        steps_base * (1 - 0.025 * (_lagged(latent, 1) - 10)) + rng.normal(0, 0.15 * steps_base, n_days), 0, 60000
    )
    biometrics["resting_hr"] = rng.uniform(55, 75) + _ar1(rng, n_days, 0.7, 3.0)
    if rng.random() < 0.2:
        for name in biometrics:
            biometrics[name][:] = np.nan
    else:
        day_missing = rng.random(n_days) < 0.10
        for name in biometrics:
            biometrics[name][day_missing | (rng.random(n_days) < 0.05)] = np.nan

    return SimulatedPatient(
        pid=pid, kind=kind, start_ordinal=_EPOCH + int(rng.integers(0, 365)), n_days=n_days, latent=latent,
        retest_sd=retest_sd, sleep_lag_days=sleep_lag_days, cadence_weeks=cadence,
        relapse_onsets=[o + sleep_lag_days for o in onsets_sleep], visits=visits,
        scheduled_visit_days=sched, daily_mood=daily_mood, biometrics=biometrics,
    )


def simulate_cohort(n_patients: int, seed: int, *, sleep_lag_days: int = 3) -> list[SimulatedPatient]:
    """``n_patients`` independent patients; the same seed gives the same cohort."""
    rng = np.random.default_rng(seed)
    return [simulate_patient(rng, pid, sleep_lag_days=sleep_lag_days) for pid in range(n_patients)]
