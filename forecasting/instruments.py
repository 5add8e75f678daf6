"""Registry of the symptom instruments the jobs accept, with their score ranges.

``higher_is_worse`` tells the deterioration job which direction is worsening;
``deterioration_delta`` is the change treated as clinically meaningful worsening
(PHQ-9 +5 is the usual reliable-change threshold, the others are scaled to match).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    name: str
    low: float
    high: float
    higher_is_worse: bool
    deterioration_delta: float
    description: str

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


def get_instrument(name: str) -> Instrument:
    return INSTRUMENTS[name]
