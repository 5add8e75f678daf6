"""Registry of the symptom instruments the jobs accept, with their score ranges.

``higher_is_worse`` tells the deterioration job which direction is worsening;
``deterioration_delta`` is the change treated as clinically meaningful worsening
(PHQ-9 +5 is the usual reliable-change threshold, the others are scaled to match).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Instrument:
    name: str
    low: float
    high: float
    higher_is_worse: bool
    deterioration_delta: float
    description: str
    integer_scores: bool = True  # totals/ratings are whole numbers: intervals can be reported as integer sets

    @property
    def span(self) -> float:
        return self.high - self.low

    def scale(self, value):
        """Map a score (or array) onto [0, 1] with 1 the worst end."""
        unit = (value - self.low) / self.span
        return unit if self.higher_is_worse else 1.0 - unit

    def unscale(self, unit):
        """Inverse of ``scale``."""
        unit = unit if self.higher_is_worse else 1.0 - unit
        return self.low + unit * self.span

    def interval(self, point_unit, half_unit, integer: bool):
        """(point, lower, upper) in score points for a unit-scale point +- half-width, clipped to the range.

        With ``integer`` (observed scores are whole numbers) the bounds are rounded inwards:
        an integer score lies in [lo, hi] exactly when it lies in [ceil(lo), floor(hi)], so
        coverage is unchanged and the reported set is the honest one.
        """
        point = np.clip(self.unscale(np.asarray(point_unit, float)), self.low, self.high)
        a = self.unscale(np.asarray(point_unit, float) - half_unit)
        b = self.unscale(np.asarray(point_unit, float) + half_unit)
        lo = np.clip(np.minimum(a, b), self.low, self.high)
        hi = np.clip(np.maximum(a, b), self.low, self.high)
        if integer:
            lo = np.minimum(np.ceil(lo - 1e-9), point)
            hi = np.maximum(np.floor(hi + 1e-9), point)
        return point, lo, hi


INSTRUMENTS: dict[str, Instrument] = {
    i.name: i
    for i in (
        Instrument("PHQ-9", 0, 27, True, 5, "Patient Health Questionnaire, depression"),
        Instrument("GAD-7", 0, 21, True, 4, "Generalized Anxiety Disorder scale"),
        Instrument("mood", 1, 10, False, 2, "Self-rated mood, 10 is best"),
        Instrument("PHQ-2", 0, 6, True, 2, "PHQ-9 two-item screener"),
        Instrument("GAD-2", 0, 6, True, 2, "GAD-7 two-item screener"),
        Instrument("PSS-10", 0, 40, True, 7, "Perceived Stress Scale"),
        Instrument("EPDS", 0, 30, True, 5, "Edinburgh Postnatal Depression Scale"),
        Instrument("WHO-5", 0, 25, False, 5, "WHO-5 well-being index (raw), 25 is best"),
    )
}
