"""Weekly PHQ-9 series from generator families that differ from ``simulator`` and from each other,
to test that a model fitted to one population does not harm another (issue 15).

* ``random_walk``: the score drifts with no pull back (last value is the best point forecast).
* ``mean_reverting``: AR(1) around a personal level (phi 0.3-0.85): the recent mean beats the last value.
* ``trend_relapse``: exponential improvement, then a relapse in 40% of patients, AR noise.
* ``sparse_visits``: a mix of the three with 35% missed visits, long gaps and +-2 days of jitter.
* ``mindq_sim``: the package's own simulator (PHQ-9 only).

Each returns lines in the training file's shape (``{"patient", "instrument", "observations"}``).
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from .simulator import simulate_cohort

FAMILIES = ("random_walk", "mean_reverting", "trend_relapse", "sparse_visits", "mindq_sim")
_START = date(2024, 1, 1)


def _latent(kind: str, rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n, dtype=float)
    if kind == "random_walk":
        return rng.uniform(5, 22) + np.cumsum(rng.normal(0, rng.uniform(0.8, 2.0), n))
    if kind == "mean_reverting":
        mu, phi, sd = rng.uniform(5, 20), rng.uniform(0.3, 0.85), rng.uniform(2.0, 3.5)
        x = np.empty(n)
        x[0] = rng.normal(0, sd)
        for i in range(1, n):
            x[i] = phi * x[i - 1] + rng.normal(0, sd * np.sqrt(1 - phi**2))
        return mu + x
    # trend_relapse
    base = rng.uniform(12, 24)
    level = base - base * rng.uniform(0.2, 0.7) * (1 - np.exp(-t / rng.uniform(3, 12)))
    if rng.random() < 0.4:
        onset, size, decay = rng.integers(6, max(n - 4, 7)), rng.uniform(4, 9), rng.uniform(3, 8)
        d = t - onset
        level = level + size * np.where(d < 0, 0, np.where(d < 2, d / 2, np.exp(-(d - 2) / decay)))
    ar = np.zeros(n)
    for i in range(1, n):
        ar[i] = 0.7 * ar[i - 1] + rng.normal(0, 1.0)
    return level + ar


def _series(kind: str, rng: np.random.Generator, pid: int, sparse: bool) -> dict:
    n = int(rng.integers(24, 41))
    latent = _latent(kind, rng, n)
    noise = rng.uniform(0.3, 1.0) if kind == "random_walk" else rng.uniform(0.6, 1.6)
    scores = np.clip(np.round(latent + rng.normal(0, noise, n)), 0, 27)
    seen = rng.random(n) >= (0.35 if sparse else 0.08)
    if sparse and rng.random() < 0.5:
        g = int(rng.integers(3, n - 6))
        seen[g: g + int(rng.integers(3, 7))] = False
    seen[:4] = True
    jitter = rng.integers(-2, 3, n) if sparse else rng.integers(-1, 2, n)
    start = _START + timedelta(days=int(rng.integers(0, 300)))
    obs = [{"timestamp": (start + timedelta(days=int(7 * i + jitter[i] + 2))).isoformat(), "value": float(scores[i])}
           for i in np.flatnonzero(seen)]
    return {"patient": f"{kind}-{pid}", "instrument": "PHQ-9", "observations": obs}


def generate(family: str, n_series: int, seed: int) -> list[dict]:
    """``n_series`` PHQ-9 series of ``family``; the same seed gives the same series."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; one of {FAMILIES}")
    rng = np.random.default_rng(seed)
    if family == "mindq_sim":
        return [{"patient": f"sim-{p.pid}", "instrument": "PHQ-9", "observations": p.observations("PHQ-9")}
                for p in simulate_cohort(n_series, seed)]
    if family == "sparse_visits":
        kinds = rng.choice(["random_walk", "mean_reverting", "trend_relapse"], n_series)
        return [_series(str(k), rng, i, True) for i, k in enumerate(kinds)]
    return [_series(family, rng, i, False) for i in range(n_series)]
