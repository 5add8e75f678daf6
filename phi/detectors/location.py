"""Cities, states, countries and named care facilities (hospitals, clinics)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from .. import anchors, gazetteer, lexicon
from ..context import after, label_after
from ..spans import PhiSpan
from .base import Pattern, PatternDetector, holds, literal_heads

_TOKEN = re.compile(r"[^\W\d_]+(?:['’.][^\W\d_]+)*\.?")
_CONNECTORS = frozenset("de del la las los le les da do di della des du of on upon am an der im sur el y and".split())
_PLACE_WORDS = frozenset("in to from near at visit visited visiting moved live lives lived living born up trip "
                         "travel traveled travelled flew drove back outside around toward towards via left "
                         "relocated stay stayed staying".split())
_FACILITY_HEADS = (
    r"Hospital", r"Medical\s+Cent(?:er|re)", r"Health\s+Cent(?:er|re)", r"Health\s+System", r"Health(?:care)?", r"Clinic",
    r"Infirmary", r"Hospice", r"Sanatorium", r"Rehab(?:ilitation)?(?:\s+(?:Center|Hospital))?", r"Nursing\s+Home",
    r"Behavioral\s+Health(?:\s+(?:Center|Hospital))?", r"Psychiatric\s+(?:Center|Hospital|Institute)",
    r"Mental\s+Health\s+Cent(?:er|re)", r"Medical\s+Group", r"Urgent\s+Care", r"Children'?s", r"Memorial",
    r"Regional\s+Medical\s+Center", r"Pharmacy", r"Counseling\s+Cent(?:er|re)", r"Treatment\s+Cent(?:er|re)",
    r"Recovery\s+Cent(?:er|re)", r"University", r"College", r"School", r"Academy", r"VA", r"VAMC", r"Manor", r"Village")
_FACILITY_HEAD = "(?:" + "|".join(_FACILITY_HEADS) + ")"
_FACILITY = re.compile(r"\b(?:(?:St|Saint|Mt|Mount)\.?\s+)?(?:[A-Z][\w'’&.\-]*\s+(?:of\s+(?:the\s+)?)?){1,5}"
                       + _FACILITY_HEAD + r"\b(?:\s+(?:of|at|in)\s+[A-Z][\w'’\-]+(?:\s+[A-Z][\w'’\-]+){0,2})?")
_FACILITY_WORDS = ("hospital", "medical", "health", "clinic", "infirmary", "hospice", "sanatorium", "rehab",
                   "nursing", "psychiatric", "urgent", "children", "memorial", "pharmacy", "counseling",
                   "counselling", "treatment", "recovery", "university", "college", "school", "academy",
                   "vamc", "manor", "village")
_FACILITY_LOWER = re.compile(r"\b(?:st\.?|saint|mount|mt\.?)\s+[a-z]+(?:['’]s)?\s+"
                             r"(?:hospital|medical\s+center|clinic)\b", re.IGNORECASE)
_BIG_CITY = 500_000
_PLACE_PHRASES = (
    r"flew\s+to", r"moved\s+(?:here\s+)?(?:to|from)", r"originally\s+from", r"based\s+in", r"lives?\s+in", r"living\s+in",
    r"born\s+in", r"grew\s+up\s+in", r"arrived\s+at", r"arrived\s+in", r"relocated\s+to", r"travel(?:l?ed|l?ing)\s+to",
    r"visit(?:ed|ing)", r"year\s+in", r"university\s+of", r"city")
_PLACE_AFTER_PHRASE = r"\s+(?P<v>[^\W\d_][\w'’\-]+)"
_AFTER_PLACE_PHRASE = re.compile(r"\b(?:" + "|".join(_PLACE_PHRASES) + ")" + _PLACE_AFTER_PHRASE, re.IGNORECASE)
_PLACE_PHRASE_WORDS = ("flew", "moved", "from", "based", "live", "living", "born", "grew", "arrived",
                       "relocated", "travel", "visit", "year in", "university", "city")
_STREETISH = re.compile(r"^[\s>]*\d{1,6}[A-Za-z]?\s+\S|\b(?:suite|apt|unit|box)\b|\d{1,6}[A-Za-z]?\s*$",
                        re.IGNORECASE)
_CREDENTIALS = frozenset("MD PA DO RN NP OR ME IN OK HI ID DE".split())
# "at St. Luke's", "St Jude's": hospitals and churches named after a saint, with no head word
_SAINT_POSSESSIVE = re.compile(r"\b(?:St\.?|Saint)\s+[A-Z][a-z]+['’]s\b")
_GENERIC_FACILITY_WORDS = frozenset("the a an this that our my his her their state county city general community "
                                    "local public private psychiatric psych mental behavioral medical".split())
# "Boston, MA", "Austin TX 78701", "CO\n Uruguay": two capitals after a comma or before a ZIP
_STATE_ABBREVIATION = re.compile(r"(?:(?<=, )|(?<=,)|(?<=\n))\s*(?P<v>[A-Z]{2})\b(?=\s*(?:\d{5}|$|\n|,|\.))"
                                 r"|\b(?P<w>[A-Z]{2})(?=\s+\d{5}\b)", re.MULTILINE)
_ZIP_AFTER = re.compile(r"\s*\d{5}")
# the second shape's start, with its \b after the first capital: re jumps to capitals
_STATE_BEFORE_ZIP = re.compile(r"[A-Z](?<!\w\w)[A-Z](?=\s+\d{5}\b)")
_SPACE_ZIP = re.compile(r"\s\d{5}\b")  # what it needs, found fast before scanning every capital
# after a comma or newline, what the first shape's start needs next: spaces and two capitals
_BREAK_BEFORE_CAPITALS = re.compile(r"[,\n](?=\s*[A-Z]{2}\b)")


def _state_starts(text: str) -> tuple[int, ...]:
    """Where a state abbreviation may begin: after a comma (and its space) or a newline, or two
    capitals before a ZIP."""
    starts = {m.start() for m in _STATE_BEFORE_ZIP.finditer(text)} if _SPACE_ZIP.search(text) else set()
    for m in _BREAK_BEFORE_CAPITALS.finditer(text):
        starts.add(m.end())
        if text.startswith(", ", m.start()):
            starts.add(m.end() + 1)
    return tuple(sorted(starts))


# a hospital or ward by its short name after a movement word: "transferred to MGH", "from BI",
# "via NEBH"; a ward called by a surname and its number: "to Finard 4", "back to Farr 10"
_MOVE = r"\b(?i:to|at|from|via|transferred\s+to|transfer\s+to|tx(?:'?d)?\s+to|sent\s+to|admitted\s+to|back\s+to)"
_HOSPITAL_ABBREVIATION = re.compile(_MOVE + r"\s+(?:the\s+)?(?P<v>[A-Z]{2,6})\b(?![\-/'’]\w|\.\w)")
_WARD = re.compile(r"(?:" + _MOVE + r"|\b(?i:on))\s+(?P<v>[A-Za-z][A-Za-z]{2,}(?:\s+[A-Z][a-z]{2,})?\s+\d{1,2}[A-Za-z]?)\b"
                   r"(?!\s*(?:mg|mcg|ml|cc|units?|mins?|hrs?|hours?|days?|l\b|lpm|meq|kg|%|/|x\b)|\.\d)"
                   r"|\b(?i:transferred\s+to|transfer\s+to|tx(?:'?d)?\s+to|sent\s+to)\s+(?P<w>[A-Z][a-z]{2,})\b")
_MOVE_WORDS = (" to ", " at ", "from ", " via ")
_MOVE_START = re.compile(anchors.boundary_after_first_letter(
    r"(?:\bto|\bat|\bfrom|\bvia|\bon|\btransfer(?:red)?|\btx|\bsent|\badmitted|\bback)\b"), re.IGNORECASE)


@lru_cache(maxsize=8)
def _move_starts(text: str) -> tuple[int, ...]:
    """Where a movement word begins: the three patterns below are tried there alone."""
    regex, string = anchors.folded(_MOVE_START, text)
    return tuple(m.start() for m in regex.finditer(string))
# the same short name in a note all in lower case: "transferred to mgh", "from nebh"
_HOSPITAL_ABBREVIATION_LOWER = re.compile(r"\b(?:to|at|from|via)\s+(?:the\s+)?(?P<v>[a-z]{2,5})\b(?![\-/'’]\w|\.\w)")
_STATE_AFTER = re.compile(r",\s*[A-Z]{2}\b")  # "Springfield, IL"


def _state(text: str, start: int, end: int) -> bool:
    return text[start:end] in gazetteer.load().state_abbreviations


def _degree(text: str, start: int, end: int) -> bool:
    """"Dr. Rhodes, MD." is a degree, not Maryland: MD, PA, DO, RN... need a ZIP after them."""
    return text[start:end] in _CREDENTIALS and not label_after(_ZIP_AFTER, text, end)


def _unknown_word(text: str, start: int, end: int) -> bool:
    word = text[start:end]
    return lexicon.load().classify(word.lower()) == "unknown" and len(word) > 3 and (word.isupper() or word.istitle())


def _unit_or_word(text: str, start: int, end: int) -> bool:
    """ICU, OR, CT, PT, NS: a unit, test or abbreviation, or an English word, state or stop word;
    in lower case or all capitals alike (TO HOME)."""
    word = text[start:end]
    low = word.lower()
    lex = lexicon.load()
    if len(word) < 2 or low in lexicon.word_list("name_stop_words.txt") or word in _CREDENTIALS or \
            low in lexicon.word_list("name_titles.txt"):
        return True
    if len(word) == 2 and word.isupper():  # BI, EW: two capitals are abbreviations; only clinical ones stay
        return low in lex.allow
    if len(word) == 3 and word.isupper():  # MGH, BWH: a three-letter English word (OFF, BED) stays
        return lex.classify(low) in ("allow", "word", "common-name")
    return lex.classify(low) in ("allow", "word", "common-name") or low in lex.veto


def _not_an_unknown_short_word(text: str, start: int, end: int) -> bool:
    """Lower case, only a word of 3+ letters that no list knows (English, census, clinical, Philter's
    whitelist, drugs): "to mwmc", not "to lcs" or "to bed"."""
    low = text[start:end]
    lex = lexicon.load()
    return len(low) < 3 or lex.classify(low) != "unknown" or low in lex.veto


def _ward_is_word(text: str, start: int, end: int) -> bool:
    """"to Lasix 40", "to Room 4", "on levo 5": the ward's first word must be a surname or unknown, no
    English or clinical word, no drug; in lower case also none that Philter's whitelist knows."""
    word = text[start:end].split()[0]
    low = word.lower()
    lex = lexicon.load()
    if lex.classify(low) in ("allow", "word", "common-name") or low in lex.drugs or low in lexicon.word_list(
            "name_stop_words.txt"):
        return True
    return not word[0].isupper() and low in lex.veto


def _names_a_saint(text: str) -> bool:
    return "St" in text or "Saint" in text


def _generic_facility(text: str, start: int, end: int) -> bool:
    """"the State Hospital", "our Community Clinic": no name in it."""
    words = text[start:end].lower().split()
    return all(w.strip(".") in _GENERIC_FACILITY_WORDS for w in words[:-1])


class LocationDetector(PatternDetector):
    name = "location"
    kind = "LOCATION"
    patterns = (
        Pattern("state-abbreviation", _STATE_ABBREVIATION, 0.8, at=_state_starts, validate=_state, invalidate=_degree),
        # "flew to LEPPEN", "originally from ΕΓΚΩΜΗ", "based in Kurzenkirchen": a word no list knows,
        # right after a travel or origin phrase, is a place
        Pattern("unknown-after-place-phrase", _AFTER_PLACE_PHRASE, 0.7,
                needs=holds(_AFTER_PLACE_PHRASE.pattern[2:], re.IGNORECASE, _PLACE_PHRASE_WORDS,
                            heads=literal_heads(_PLACE_PHRASES, lower=True)),
                validate=_unknown_word),
        Pattern("facility", _FACILITY, 0.9, needs=holds(_FACILITY_HEAD + r"\b", words=(*_FACILITY_WORDS, " va"), lead=r"\s",
                                                   heads=literal_heads(_FACILITY_HEADS)),
                invalidate=_generic_facility),
        Pattern("facility-lowercase", _FACILITY_LOWER, 0.8, needs=("hospital", "medical", "clinic")),
        Pattern("saint-possessive", _SAINT_POSSESSIVE, 0.8, needs=_names_a_saint),
        Pattern("hospital-abbreviation", _HOSPITAL_ABBREVIATION, 0.8, at=_move_starts, needs=_MOVE_WORDS,
                invalidate=_unit_or_word),
        Pattern("hospital-abbreviation-lowercase", _HOSPITAL_ABBREVIATION_LOWER, 0.7, at=_move_starts, needs=_MOVE_WORDS,
                invalidate=_not_an_unknown_short_word),
        Pattern("ward", _WARD, 0.8, at=_move_starts, needs=(*_MOVE_WORDS, " on "), invalidate=_ward_is_word),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gaz = gazetteer.load()
        self.lex = lexicon.load()

    def find(self, text: str) -> Iterator[PhiSpan]:
        yield from self._places(text)
        yield from super().find(text)
        if "\n" in text:
            yield from self._address_block_lines(text)

    def _places(self, text: str) -> Iterator[PhiSpan]:
        scan, string = anchors.folded(_TOKEN, text)  # case-sensitive: the string is the text
        tokens = list(scan.finditer(string))
        i = 0
        for k in self._may_start_places(text, scan, tokens):
            if k < i:
                continue  # inside the place before
            i = k
            first = tokens[i].group()
            # lower-case place names only right after "in", "to", "from"...: "moved to denver"
            lowercase_ok = i > 0 and tokens[i - 1].group().lower() in _PLACE_WORDS and \
                text[tokens[i - 1].end():tokens[i].start()] == " "
            hit = self._longest_place(text, tokens, i, lowercase_ok) if first[0].isupper() or lowercase_ok else None
            if not hit:
                continue
            j, kind = hit
            end = tokens[j].end() - (tokens[j].group().endswith(".") and kind != "country")
            score = self._score(text, tokens, i, j, kind, lowercase_ok)
            yield self.span(tokens[i].start(), end, kind, score)
            i = j + 1

    def _may_start_places(self, text: str, scan: re.Pattern[str], tokens: list[re.Match[str]]) -> list[int]:
        """Indices of the rare tokens that can start a place (the first word of one): on an ASCII text
        read from the same tokens of the lower-cased text, found in one scan."""
        first_words = self.gaz.first_words
        if anchors.plain_ascii(text):
            words = scan.findall(anchors.lower(text))
            return [k for k, word in enumerate(words) if word.rstrip(".") in first_words]
        return [k for k, m in enumerate(tokens) if m.group().rstrip(".").lower() in first_words]

    def _longest_place(self, text: str, tokens: list[re.Match[str]], i: int,
                       lowercase_ok: bool) -> tuple[int, str] | None:
        words: list[str] = []
        best = None
        for j in range(i, min(len(tokens), i + self.gaz.max_tokens)):
            word = tokens[j].group()
            if j > i:
                if text[tokens[j - 1].end():tokens[j].start()] not in (" ", "-"):
                    break
                if not word[0].isupper() and word.lower() not in _CONNECTORS and not lowercase_ok:
                    break
            words.append(word.rstrip(".").lower() if word != "U.S." else "u.s.")
            kind = self.gaz.places.get(" ".join(words))
            if kind and self._plausible(text, tokens, i, j, kind, lowercase_ok):
                best = (j, kind)
        return best

    def _score(self, text: str, tokens: list[re.Match[str]], i: int, j: int, kind: str, context: bool) -> float:
        """A one-word city that is also a person's name ("Mary", "Florence") lets NAME win, unless a
        place word, a ", ST" after it or a big population says it is the city."""
        low = tokens[i].group().lower()
        if i < j or kind != "city" or not self.lex.is_name(low):
            return 0.9
        if context or self.gaz.population.get(low, 0) >= _BIG_CITY or \
                label_after(_STATE_AFTER, text, tokens[j].end()):
            return 0.9
        return 0.55

    def _plausible(self, text: str, tokens: list[re.Match[str]], i: int, j: int, kind: str,
                   context: bool) -> bool:
        if j > i or kind in ("country", "state"):
            return tokens[i].group()[0].isupper() or context
        word = tokens[i].group().rstrip(".")
        low = word.lower()
        word_class = self.lex.classify(low)
        following = after(text, tokens[i].end())
        if len(low) < 3 or word_class == "allow" or self.lex.is_eponym_use(low, following):
            return False  # "Columbia protocol" is a scale, not the city
        if not word[0].isupper():
            # "moved to denver"; an English word only for a big city: "flew to phoenix", not "went to bed"
            return context and (word_class in ("unknown", "name", "name-word") or
                                word_class in ("word", "common-name") and
                                self.gaz.population.get(low, 0) >= _BIG_CITY)
        if word_class not in ("name", "unknown"):
            # "Mobile", "Reading", "Independence": a city only with a place context or ", ST"
            return context or bool(label_after(_STATE_AFTER, text, tokens[i].end()))
        return True

    def _address_block_lines(self, text: str) -> Iterator[PhiSpan]:
        # a short line of capitalised words right under a street or suite line is the town:
        # "3784 Archwood Avenue\nLAPPEENRANTA\nSK 53650"; the line's own tests come first, the
        # street test of the line above only for the few short lines that pass them
        lines = _lines(text)
        for (_, above), (start, line) in zip(lines, lines[1:], strict=False):
            lead = len(line) - len(line.lstrip(" \t>"))
            body = line[lead:].rstrip(" \t")
            if not body or body[-1] in ",.?!:;":
                continue  # "Thanks," under a sentence with a number is a sign-off, not a town
            words = body.replace(",", " ").split()
            if not 1 <= len(words) <= 4 or not all(w[0].isupper() and w.isalpha() or w == "nan" for w in words):
                continue
            if not any(self.lex.classify(w.lower()) in ("unknown", "name") for w in words) or \
                    any(self.lex.classify(w.lower()) == "allow" for w in words) or not _STREETISH.search(above):
                continue
            yield self.span(start + lead, start + lead + len(body), "address-block-line", 0.6)


def _lines(text: str) -> list[tuple[int, str]]:
    """(offset, line) of each line, without its newline."""
    lines, start = [], 0
    for line in text.split("\n"):
        lines.append((start, line))
        start += len(line) + 1
    return lines
