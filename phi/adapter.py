"""The one bridge between our detectors and scrubadub's Detector/Filth classes.

Each detector implements ``find(text)`` yielding ``PhiSpan``; the adapter turns those into
``PhiFilth`` so that scrubadub's Scrubber can run and merge them, and back again.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from scrubadub.detectors.base import Detector
from scrubadub.filth.base import Filth

from .spans import PhiSpan


class PhiFilth(Filth):
    type = "phi"

    def __init__(self, span: PhiSpan, text: str, detector_name: str,
                 document_name: str | None = None):
        super().__init__(beg=span.start, end=span.end, text=text[span.start:span.end],
                         detector_name=detector_name, document_name=document_name, locale="en_US")
        self.span = span
        self.type = span.kind.lower()


class PhiDetector(Detector):
    """Base class: subclasses set ``name`` and ``kind`` and implement ``find``."""

    name = "phi"
    kind = "ID"
    filth_cls = PhiFilth

    def __init__(self, **kwargs):
        kwargs.setdefault("locale", "en_US")
        super().__init__(**kwargs)

    def find(self, text: str) -> Iterable[PhiSpan]:
        raise NotImplementedError

    def span(self, start: int, end: int, pattern: str, score: float = 1.0,
             kind: str | None = None) -> PhiSpan:
        return PhiSpan(start, end, kind or self.kind, self.name, pattern, score)

    def iter_filth(self, text: str, document_name: str | None = None) -> Iterator[Filth]:
        for span in self.find(text):
            if span.end > span.start:
                yield PhiFilth(span, text, self.name, document_name)
