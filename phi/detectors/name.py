"""Person names (patients, relatives, clinicians) from dictionaries and context, no model.

A token is a name when a context says so (Dr. X, my sister X, name is X, Hi X), when it is in the
census name lists and not an English word, or when it is capitalised mid-sentence and not an
English word (the "anything unknown is suspect" rule that gives Philter its recall). Everyday
words that are also names (Rose, Hope, Mark, Brown) need a capital mid-sentence or a context.
Neighbours of a name (initials, particles, unknown capitalised words) join its span.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from .. import lexicon
from ..adapter import PhiDetector
from ..spans import PhiSpan

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+|-[^\W\d_]+)*['’]?")
_POSSESSIVE = re.compile(r"['’]s?$", re.IGNORECASE)

_TITLES = r"(?:dr|doctor|mr|mrs|ms|miss|mx|prof|professor|nurse|rev|reverend|pastor|fr|sr|sgt|capt|officer|coach|judge|attorney|dra|sra|herr|frau)"
_KIN = (r"(?:sister|brother|sis|bro|mom|mother|mum|mommy|mama|dad|father|daddy|papa|husband|wife|son|daughter|"
        r"friend|boyfriend|girlfriend|bf|gf|partner|fianc[ée]e?|spouse|therapist|psychiatrist|psychologist|"
        r"counselou?r|doctor|doc|pcp|coworker|co-worker|colleague|boss|manager|supervisor|aunt|auntie|uncle|"
        r"cousin|grandma|grandmother|grandpa|grandfather|granny|nana|niece|nephew|ex|roommate|neighbou?r|"
        r"step(?:mom|dad|son|daughter|mother|father|brother|sister)|kid|child|baby|sponsor|teacher|"
        r"classmate|bestie|bff|twin|caseworker|case manager|social worker|nurse|dietitian|provider|clinician|"
        r"attending|resident|intern|landlord|lawyer|pastor|priest|rabbi|imam)")
_BEFORE_STRONG = re.compile(
    r"(?:\b" + _TITLES + r"\.?\s+(?:[A-Z]\.\s*)?"
    r"|\b(?:name\s+is|name's|names\s+are|named|called|call\s+me|goes\s+by|signed|sincerely|regards|"
    r"love|thanks|thank\s+you|cheers|dear|hi|hey|hello|attn|attention|c/o|cc|seen\s+by|"
    r"patient\s+name|pt\s+name|patient|pt|spoke\s+with|spoke\s+to|talked\s+to|talked\s+with|met\s+with|"
    r"per|with|by|from|to|and)[:,]?\s+"
    r"|\b(?:my|his|her|our|their|your|the|a|pt's|patient's)\s+(?:\w+\s+)?" + _KIN + r"(?:'s)?\s*[,:]?\s*"
    r"(?:(?:is\s+)?(?:named|called)\s+)?)$", re.IGNORECASE)
# which of the phrases above also vouch for lower-case and everyday-word names
_STRONG_ANY_CASE = re.compile(r"(?:\b" + _TITLES + r"\.?\s+(?:[A-Z]\.\s*)?|\b(?:name\s+is|name's|named|called|"
                              r"call\s+me|goes\s+by|dear|patient\s+name|pt\s+name)[:,]?\s+|" + _KIN +
                              r"(?:'s)?\s*[,:]?\s*(?:(?:is\s+)?(?:named|called)\s+)?)$", re.IGNORECASE)
_WEAK_BEFORE = re.compile(r"\b(?:with|by|from|to|and|per|patient|pt|hi|hey|hello|thanks|love|cc|signed)[:,]?\s+$",
                          re.IGNORECASE)
_SPEECH_AFTER = re.compile(r"^(?:['’]s\b|\s+(?:said|says|told|asked|texted|called|yelled|replied|mentioned|"
                           r"messaged|emailed|thinks|wants|and\s+I|and\s+me)\b|:)", re.IGNORECASE)
_DOSE_AFTER = re.compile(r"^\s*(?:\(?\w+\)?\s*)?\d+(?:\.\d+)?\s*(?:mg|mcg|µg|g|ml|units|iu|%|mEq)\b", re.IGNORECASE)
_EPONYM_HEAD = re.compile(r"^(?:['’]s?)?\s*(?:disease|syndrome|palsy|sign|signs|scale|test|score|inventory|criteria|"
                          r"catheter|phenomenon|disorder|sarcoma|lymphoma|virus|reflex|maneuver|manoeuvre|"
                          r"triad|encephalopathy|chorea|dementia|depression|anxiety|hopkins|equation|"
                          r"questionnaire|coma|body|bodies|procedure|operation|stage|staging|ulcer|fracture)\b",
                          re.IGNORECASE)
_CLINICAL_SUFFIX = re.compile(r"(?:itis|osis|emia|aemia|ectomy|otomy|ostomy|ology|opathy|algia|plasty|gram|graphy|"
                              r"scopy|pine|pam|lam|zine|done|pril|sartan|statin|olol|azole|mab|nib|cillin|mycin|"
                              r"oxetine|aline|pramine|triptyline|tidine|prazole|dipine|afil|formin|profen|codone|"
                              r"morphone|barbital|caine|asone|olone|ide|ine|phrine|amine|ium|ate|ase)$")
_PARTICLES = frozenset("van von der den de del della di da du le la st st. bin ibn al el ben dos das mc mac".split())
_STOP = frozenset("""a an the and or but if of in on at to for from by with without about as into onto over under
i me my mine we us our you your he him his she her they them their it its this that these those there here
is am are was were be been being do does did have has had will would can could should may might must shall
not no yes so very too just also then than when where who whom whose what which why how all any some each
every both either neither one two three ok okay oh hi hey hello thanks please sorry well now still yet""".split())
_TITLE_WORDS = frozenset("dr mr mrs ms mx prof jr sr md phd rn np do".split())
_SENTENCE_END = frozenset(".!?\n:;•*>|")


@dataclass
class _Token:
    start: int
    end: int          # end of the name part (a possessive 's stays outside)
    surface: str
    lower: str
    name: bool = False
    pattern: str = ""


class NameDetector(PhiDetector):
    name = "name"
    kind = "NAME"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lex = lexicon.load()

    def find(self, text: str) -> Iterator[PhiSpan]:
        tokens = [self._token(m) for m in _TOKEN.finditer(text)]
        for i, tok in enumerate(tokens):
            tok.pattern = self._classify(text, tokens, i)
            tok.name = bool(tok.pattern)
        self._extend(text, tokens)
        yield from self._spans(text, tokens)

    @staticmethod
    def _token(m: re.Match[str]) -> _Token:
        surface = _POSSESSIVE.sub("", m.group()) or m.group()
        return _Token(m.start(), m.start() + len(surface), surface, surface.lower())

    def _classify(self, text: str, tokens: list[_Token], i: int) -> str:
        tok, lex = tokens[i], self.lex
        low, surface = tok.lower, tok.surface
        if low in _STOP or low in _TITLE_WORDS or len(low) < 2 and not surface.isupper():
            return ""
        before = text[max(0, tok.start - 40):tok.start]
        after = text[tok.end:tok.end + 30]
        strong = _BEFORE_STRONG.search(before)
        cap = surface[0].isupper()
        if low in lex.allow or _DOSE_AFTER.match(after) or (low in lex.eponyms and _EPONYM_HEAD.match(after)):
            return "title" if strong and _STRONG_ANY_CASE.search(before) and cap and low not in lex.allow else ""
        is_word = low in lex.words
        is_ambiguous = low in lex.ambiguous
        in_dict = lex.is_name(low) and not is_word
        if strong and _STRONG_ANY_CASE.search(before) and (cap or in_dict or is_ambiguous or not is_word):
            return "context"
        if len(surface) == 1:
            return ""  # a lone initial only joins a neighbouring name
        if surface.isupper() and len(surface) > 1:
            return "caps-dictionary" if in_dict and len(surface) > 2 else ""
        if not cap:
            return "lowercase-first-name" if low in lex.first_names and in_dict and not is_ambiguous \
                and len(low) > 2 else ""
        starts_sentence = _starts_sentence(text, tok.start)
        speech = _SPEECH_AFTER.match(text[tok.end:tok.end + 12])
        if in_dict:
            return "dictionary"
        if is_word:
            return "word-in-context" if strong and speech else ""
        if is_ambiguous:
            if not starts_sentence:
                return "capitalised-name-word"
            return "name-word-in-context" if speech or strong or self._next_is_name(tokens, i) else ""
        if _CLINICAL_SUFFIX.search(low) and not strong:
            return ""
        return "unknown-capitalised"

    def _next_is_name(self, tokens: list[_Token], i: int) -> bool:
        if i + 1 >= len(tokens):
            return False
        nxt = tokens[i + 1]
        low = nxt.lower
        return nxt.surface[0].isupper() and low not in self.lex.words and low not in self.lex.allow \
            and low not in _STOP

    def _extend(self, text: str, tokens: list[_Token]) -> None:
        """Initials, particles and capitalised neighbours join an adjacent name."""
        for _ in range(2):
            for i, tok in enumerate(tokens):
                if tok.name:
                    continue
                left = tokens[i - 1] if i > 0 and _adjacent(text, tokens[i - 1], tok) else None
                right = tokens[i + 1] if i + 1 < len(tokens) and _adjacent(text, tok, tokens[i + 1]) else None
                if not (left and left.name) and not (right and right.name):
                    continue
                if self._joins(tok, left, right):
                    tok.name, tok.pattern = True, "neighbour"

    def _joins(self, tok: _Token, left: _Token | None, right: _Token | None) -> bool:
        low, surface = tok.lower, tok.surface
        if len(surface) == 1:
            return surface.isupper()
        if low in _PARTICLES:
            return bool(left and left.name and right and right.name and right.surface[0].isupper())
        if low in _STOP or low in self.lex.allow or low in _TITLE_WORDS:
            return False
        if surface[0].isupper():
            return low not in self.lex.words or self.lex.is_name(low)
        # lower-case surname after a lower-case first name: "patricia desrosiers"
        return bool(left and left.name and not left.surface[0].isupper()
                    and low not in self.lex.words and low not in self.lex.ambiguous)

    def _spans(self, text: str, tokens: list[_Token]) -> Iterator[PhiSpan]:
        i = 0
        while i < len(tokens):
            if not tokens[i].name:
                i += 1
                continue
            j = i
            while j + 1 < len(tokens) and tokens[j + 1].name and _adjacent(text, tokens[j], tokens[j + 1]):
                j += 1
            end = tokens[j].end
            if len(tokens[j].surface) == 1 and text[end:end + 1] == ".":
                end += 1
            pattern = tokens[i].pattern if tokens[i].pattern != "neighbour" else tokens[j].pattern
            yield self.span(tokens[i].start, end, pattern, 0.6 if pattern == "unknown-capitalised" else 0.8)
            i = j + 1


def _adjacent(text: str, a: _Token, b: _Token) -> bool:
    gap = text[a.end:b.start]
    if gap in (" ", "-", "  "):
        return True
    # a dot only joins after an initial: "Tom I. Holzman", "J.R. Smith"
    return gap in (".", ". ") and len(a.surface) == 1


def _starts_sentence(text: str, start: int) -> bool:
    j = start - 1
    while j >= 0 and text[j] in " \t\"'“‘([-–—":
        j -= 1
    if j < 0 or text[j] in _SENTENCE_END:
        # "Dr." and initials end with a dot but do not end a sentence
        return not (text[j:j + 1] == "." and re.search(r"\b(?:dr|mr|mrs|ms|st|prof|[A-Z])$",
                                                        text[max(0, j - 5):j], re.IGNORECASE))
    return False
