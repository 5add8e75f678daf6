"""The public entry point: find PHI spans in a text and replace them."""
from __future__ import annotations

from collections.abc import Iterable

import scrubadub
from scrubadub.filth.base import MergedFilth

from . import registry
from .adapter import PhiDetector, PhiFilth
from .merge import merge_spans
from .sanitize import as_text
from .spans import PhiSpan, ScrubResult
from .surrogate import SurrogateMap


class Scrubber:
    """``detect`` finds PHI spans, ``scrub`` masks them as ``[KIND]`` or with consistent surrogates.

    Runs our detectors through scrubadub's Scrubber; never raises on odd input (None, bytes, lone
    surrogates, binary noise): such input is scanned as text with the same offsets.
    """

    def __init__(self, detectors: Iterable[PhiDetector] | None = None):
        self._detectors = list(detectors) if detectors is not None else registry.build()
        self._scrubadub = scrubadub.Scrubber(detector_list=self._detectors, post_processor_list=[])

    def detect(self, text: str) -> list[PhiSpan]:
        return self._detect(as_text(text))

    def scrub(self, text: str, surrogate: bool = False) -> ScrubResult:
        clean = as_text(text)
        spans = self._detect(clean)
        surrogates = SurrogateMap(clean) if surrogate else None
        pieces, cursor = [], 0
        for span in spans:
            pieces.append(clean[cursor:span.start])
            original = clean[span.start:span.end]
            pieces.append(surrogates.value(span, original) if surrogates else f"[{span.kind}]")
            cursor = span.end
        pieces.append(clean[cursor:])
        return ScrubResult("".join(pieces), spans)

    def _detect(self, text: str) -> list[PhiSpan]:
        if not text.strip():
            return []
        hits: list[PhiSpan] = []
        for filth in self._scrubadub.iter_filth(text, run_post_processors=False):
            for part in (filth.filths if isinstance(filth, MergedFilth) else [filth]):
                if isinstance(part, PhiFilth):
                    hits.append(part.span)
        return merge_spans(hits)
