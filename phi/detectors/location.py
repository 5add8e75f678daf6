"""Cities, states, countries and named care facilities (hospitals, clinics)."""
from __future__ import annotations

import re
from typing import Iterator

from .. import gazetteer, lexicon
from ..adapter import PhiDetector
from ..spans import PhiSpan

_TOKEN = re.compile(r"[^\W\d_]+(?:['’.][^\W\d_]+)*\.?")
_CONNECTORS = frozenset("de del la las los le les da do di della des du of on upon am an der im sur el y and".split())
_PLACE_CONTEXT = re.compile(r"\b(?:in|to|from|near|at|visit(?:ed|ing)?|moved|live[sd]?|living|born|grew\s+up|"
                            r"trip|travel(?:l?ed|l?ing)?|flew|drove|back|outside|around|towards?|via|left|"
                            r"relocated|stay(?:ed|ing)?)\s+$", re.IGNORECASE)
_FACILITY_HEAD = (r"(?:Hospital|Medical\s+Cent(?:er|re)|Health\s+Cent(?:er|re)|Health\s+System|Health(?:care)?|Clinic|"
                  r"Infirmary|Hospice|Sanatorium|Rehab(?:ilitation)?(?:\s+(?:Center|Hospital))?|Nursing\s+Home|"
                  r"Behavioral\s+Health(?:\s+(?:Center|Hospital))?|Psychiatric\s+(?:Center|Hospital|Institute)|"
                  r"Mental\s+Health\s+Cent(?:er|re)|Medical\s+Group|Urgent\s+Care|Children'?s|Memorial|"
                  r"Regional\s+Medical\s+Center|Pharmacy|Counseling\s+Cent(?:er|re)|Treatment\s+Cent(?:er|re)|"
                  r"Recovery\s+Cent(?:er|re)|University|College|School|Academy|VA|VAMC|Manor|Village)")
_FACILITY = re.compile(r"\b(?:(?:St|Saint|Mt|Mount)\.?\s+)?(?:[A-Z][\w'’&.\-]*\s+(?:of\s+(?:the\s+)?)?){1,5}"
                       + _FACILITY_HEAD + r"\b(?:\s+(?:of|at|in)\s+[A-Z][\w'’\-]+(?:\s+[A-Z][\w'’\-]+){0,2})?")
_FACILITY_LOWER = re.compile(r"\b(?:st\.?|saint|mount|mt\.?)\s+[a-z]+(?:['’]s)?\s+(?:hospital|medical\s+center|clinic)\b",
                             re.IGNORECASE)
_GENERIC_FACILITY_WORDS = frozenset("the a an this that our my his her their state county city general community "
                                    "local public private psychiatric psych mental behavioral medical".split())


class LocationDetector(PhiDetector):
    name = "location"
    kind = "LOCATION"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.gaz = gazetteer.load()
        self.lex = lexicon.load()

    def find(self, text: str) -> Iterator[PhiSpan]:
        yield from self._places(text)
        yield from self._state_abbreviations(text)
        for m in _FACILITY.finditer(text):
            if not _generic_facility(m.group()):
                yield self.span(m.start(), m.end(), "facility", 0.9)
        for m in _FACILITY_LOWER.finditer(text):
            yield self.span(m.start(), m.end(), "facility-lowercase", 0.8)

    def _places(self, text: str) -> Iterator[PhiSpan]:
        tokens = list(_TOKEN.finditer(text))
        i = 0
        while i < len(tokens):
            hit = self._longest_place(text, tokens, i)
            if hit:
                j, kind = hit
                end = tokens[j].end() - (tokens[j].group().endswith(".") and kind != "country")
                # a one-word city that is also a person's name ("Mary", "Florence") lets NAME win
                score = 0.55 if i == j and self.lex.is_name(tokens[i].group().lower()) else 0.9
                yield self.span(tokens[i].start(), end, kind, score)
                i = j + 1
            else:
                i += 1

    def _longest_place(self, text: str, tokens: list[re.Match[str]], i: int) -> tuple[int, str] | None:
        first = tokens[i].group()
        lowercase_ok = bool(_PLACE_CONTEXT.search(text[max(0, tokens[i].start() - 20):tokens[i].start()]))
        if not first[0].isupper() and not lowercase_ok:
            return None
        words = []
        best = None
        for j in range(i, min(len(tokens), i + self.gaz.max_tokens)):
            if j > i and text[tokens[j - 1].end():tokens[j].start()] not in (" ", "-", ", ") and \
                    not text[tokens[j - 1].end():tokens[j].start()] == "":
                break
            word = tokens[j].group().rstrip(".") if j == i or tokens[j].group() != "U.S." else tokens[j].group()
            if j > i and not word[0].isupper() and word.lower() not in _CONNECTORS and not lowercase_ok:
                break
            words.append(word.lower())
            kind = self.gaz.places.get(" ".join(words)) or self.gaz.places.get(tokens[i].group().lower()
                                                                                   if j == i else "")
            if kind and self._plausible(text, tokens, i, j, kind, lowercase_ok):
                best = (j, kind)
        return best

    def _plausible(self, text: str, tokens: list[re.Match[str]], i: int, j: int, kind: str,
                   context: bool) -> bool:
        if j > i or kind in ("country", "state"):
            return tokens[i].group()[0].isupper() or context
        word = tokens[i].group().rstrip(".")
        low = word.lower()
        if len(low) < 3 or low in self.lex.allow:
            return False
        if low in self.lex.words or low in self.lex.ambiguous or word.isupper():
            # "Mobile", "Reading", "Independence": a city only with a place context or ", ST"
            return context and word[0].isupper() or bool(re.match(r",\s*[A-Z]{2}\b", text[tokens[i].end():]))
        if not word[0].isupper():
            return context and low not in self.lex.first_names
        return True

    def _state_abbreviations(self, text: str) -> Iterator[PhiSpan]:
        # "Boston, MA", "Austin TX 78701", "CO\n Uruguay": two capitals after a comma or before a ZIP
        for m in re.finditer(r"(?:(?<=, )|(?<=,)|(?<=\n))\s*(?P<v>[A-Z]{2})\b(?=\s*(?:\d{5}|$|\n|,|\.))"
                             r"|\b(?P<w>[A-Z]{2})(?=\s+\d{5}\b)", text, re.MULTILINE):
            group = "v" if m.start("v") >= 0 else "w"
            if m.group(group) in self.gaz.state_abbreviations:
                yield self.span(*m.span(group), "state-abbreviation", 0.8)


def _generic_facility(name: str) -> bool:
    words = name.lower().split()
    return all(w.strip(".") in _GENERIC_FACILITY_WORDS for w in words[:-1])
