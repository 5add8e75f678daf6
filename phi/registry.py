"""Which detectors the scrubber runs. Add a detector here to have it registered with scrubadub."""
from __future__ import annotations

from .adapter import PhiDetector
from .detectors.address import AddressDetector
from .detectors.age import AgeDetector
from .detectors.card import CardDetector
from .detectors.date import DateDetector
from .detectors.email import EmailDetector
from .detectors.identifier import IdentifierDetector
from .detectors.ip import IpDetector
from .detectors.location import LocationDetector
from .detectors.name import NameDetector
from .detectors.phone import PhoneDetector
from .detectors.ssn import SsnDetector
from .detectors.url import UrlDetector

DETECTORS: tuple[type[PhiDetector], ...] = (
    EmailDetector, UrlDetector, IpDetector, SsnDetector, CardDetector, PhoneDetector, IdentifierDetector,
    DateDetector, AgeDetector, AddressDetector, LocationDetector, NameDetector,
)


def build(names: list[str] | None = None) -> list[PhiDetector]:
    """Instantiate the registered detectors, or only those whose ``name`` is listed."""
    return [cls() for cls in DETECTORS if names is None or cls.name in names]
