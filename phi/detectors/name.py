"""Person names (patients, relatives, clinicians) from dictionaries and context, no model.

Each token gets a lexical class from the bundled lists (see lexicon.py) and a context from the
words just before it; then the rules of ``RULES``, in order, decide whether it is a name: the
first rule with a verdict wins. Broadly, a token is a name when:
- a context vouches for it: a title (Dr. X, Mrs x), an introduction (name is X, named X, Dear X),
  a relative or carer (my sister X, her therapist X), even in lower case;
- it is capitalised and a census name that is not an English word (Nancy, Nguyen);
- it is capitalised mid-sentence and not an English word: the "anything unknown is suspect" rule
  that gives Philter its recall (Szöllösy, Karataev);
- it is an everyday word that is also a name (Rose, Hope, Mark, Brown) capitalised mid-sentence,
  or at the start of a sentence when followed by "said"/"'s"/another name;
- it is a lower-case census first name that is no English word (terrence).
Initials, particles (van, de) and capitalised unknown words next to a name join its span.
Clinical words that look like names (Bell's palsy, Parkinson, Zoloft, May) are in allow lists.
The word lists are ``phi/data/name_*.txt``.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .. import anchors, lexicon
from ..context import WINDOW, after, before, label_after
from ..spans import PhiSpan
from .base import Pattern, PatternDetector, holds

_TITLES = lexicon.word_list("name_titles.txt")
_KIN = lexicon.word_list("name_kin.txt")
_POSSESSIVES = lexicon.word_list("name_possessives.txt")
_INTRO_ONE = lexicon.word_list("name_intro_words.txt")
_INTRO_TWO = lexicon.word_pairs("name_intro_pairs.txt")
_LABELS = lexicon.word_list("name_labels.txt")
_WEAK = lexicon.word_list("name_weak_words.txt")
_PARTICLES = lexicon.word_list("name_particles.txt")
_STOP = lexicon.word_list("name_stop_words.txt")
_INITIALS_BEFORE = lexicon.word_list("name_initials_before.txt")
_ORGANISATION_WORDS = lexicon.word_list("name_organisation_words.txt")
_PAST_VERBS = lexicon.word_list("name_past_verbs.txt")
_AFTER_LAST_FIRST = lexicon.word_list("name_after_last_first.txt")
_TITLE_WORDS = lexicon.word_list("name_title_words.txt")
_BEFORE_PERSON = lexicon.word_list("name_before_person.txt")
_VERBS_BEFORE = lexicon.word_list("name_verbs_before.txt")
_CLINICAL_SUFFIX = re.compile(
    "(?:" + "|".join(map(re.escape, sorted(lexicon.word_list("name_clinical_suffixes.txt")))) + ")$")

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+|-[^\W\d_]+)*['’]?")
_POSSESSIVE = re.compile(r"['’]s?$", re.IGNORECASE)
_CONTRACTION = re.compile(r"['’](?:m|ve|ll|re|d|t|mon|em|all)$", re.IGNORECASE)
# what follows a person: "Mark said", "Mark's", "Nicole, you..." (read in the window after the token)
_SPEECH_AFTER = re.compile(r"(?:['’]s\b|\s+(?:said|says|told|asked|texted|called|yelled|replied|mentioned|"
                           r"messaged|emailed|thinks|wants|wanted|and\s+I|and\s+me|came|went|is\s+coming|"
                           r"is\s+an?\s+\d+|was\s+an?\s+\d+|reports|states|denies|presents)\b|,\s+(?:you|I)\b)",
                           re.IGNORECASE)
# "Zoloft 50 mg", "Abilify (aripiprazole) 5 mg": a drug, not a person
_DOSE_AFTER = re.compile(r"\s*(?:\(?\w+\)?\s*)?\d+(?:\.\d+)?\s*(?:mg|mcg|µg|g|ml|units|iu|%|mEq)\b", re.IGNORECASE)
# what follows a person at the start of a sentence: "Shovda is very reliable", "Usamov and Bowers"
_PERSON_VERB_AFTER = re.compile(r"\s+(?:(?:is|was|lives|lived|works|worked|will|has|had|began|begins|loves|hates)\b|"
                                r"and\s+[A-Z])")
_INITIALS = re.compile(r"(?<![\w.])(?:[A-Z]\.[ ]?){2,3}(?![\w])")
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|De|Da|Di|Du|La|Le|Van|Von|O['’]|St|Del|Dos|Ja|Ke|Sha|Ta)[A-Z]")
_WEAK_PATTERNS = frozenset({"lowercase-unknown", "capitalised-after-verb", "caps-label"})
_SENTENCE_END = frozenset(".!?\n:;•*>|")
# relatives named right after the word, in any case: "SON JIM", "daughter-lucy", "husband, tom"
_KIN_BARE = frozenset("son daughter husband wife mother father brother sister mom dad mum sis bro aunt uncle "
                      "niece nephew cousin grandson granddaughter grandmother grandfather fiance fiancee "
                      "boyfriend girlfriend partner spouse hcp proxy friend neighbor neighbour".split())
_MEETING_VERBS = frozenset("met told texted called asked saw visited hugged miss missed love hate thank".split())
_KIN_GAP = re.compile(r"(?: |-|, |: | - |\s*\(\s*)$")
_TITLE_DOT = re.compile(r"\b(?:dr|mr|mrs|ms|st|prof|[A-Z])$", re.IGNORECASE)

# a signature: "j. moreno rrt", "J Moreno, RN", and at a line's start or after "--"/"/" "jane moreno rn"
_CREDENTIALS = ("rn|rrt|rt|md|np|pa|pa-c|lpn|lvn|cna|bsn|msn|aprn|crna|cnm|pharmd|rph|lcsw|licsw|ccrn|"
                "pmhnp|fnp|acnp|agacnp|dpt|otr|slp|ms3|ms4|mdiv|chaplain")
_SIGNATURE = re.compile(
    r"(?:(?<![\w.'’/])(?P<v>[a-z](?:\.[ ]?|[ ])(?:[a-z]\.[ ]?)?[a-z][a-z'’\-]+)"
    r"|(?:^|(?<=--)|(?<=-- )|(?<=/)|(?<=/ ))[ \t]*(?P<w>[a-z][a-z'’\-]+[ ][a-z][a-z'’\-]+))"
    r",?[ ]+(?:" + _CREDENTIALS + r")\b(?![.\-/]\w)", re.IGNORECASE | re.MULTILINE)

_SIGNATURE_NEEDS = tuple(sorted({" " + c[:2] for c in _CREDENTIALS.split("|")}))
_CREDENTIAL = re.compile(r"[ ](?:" + _CREDENTIALS + r")\b(?![.\-/]\w)", re.IGNORECASE)


def _credential_lines(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each line with a credential after a space, its newline included: a signature
    ends with one and never crosses a line, so scanning these lines alone finds every signature
    (its lookarounds still see the text around a line)."""
    regex, string = anchors.folded(_CREDENTIAL, text)
    lines: list[tuple[int, int]] = []
    for m in regex.finditer(string):
        start = text.rfind("\n", 0, m.start()) + 1
        if lines and lines[-1][0] == start:
            continue
        end = text.find("\n", m.end())
        lines.append((start, len(text) if end < 0 else end + 1))
    return tuple(lines)

NOT_A_NAME = ""  # a rule's verdict: decided, not a name (None: the rule has no say)
_UNKNOWN = "?"   # a context not worked out yet


@dataclass(slots=True)
class _Token:
    start: int
    end: int          # end of the name part (a possessive 's stays outside)
    surface: str
    lower: str
    index: int
    word_class: str = ""
    cap: bool = False
    name: bool = False
    pattern: str = ""
    rule: str = ""


class _Doc:
    """One text, its tokens, and what the rules ask about them (computed once, when first asked)."""

    __slots__ = ("text", "tokens", "lex", "_shapes", "_contexts", "_dialogue", "_style")

    def __init__(self, text: str, tokens: list[_Token], lex: lexicon.Lexicon, shapes: list[int]):
        self.text, self.tokens, self.lex = text, tokens, lex
        self._shapes = shapes  # each token's _shape
        self._contexts: dict[int, str | None] = {}
        self._dialogue: bool | None = None
        self._style: str | None = None

    def style(self) -> str:
        """The note's case style: "upper" (all capitals), "lower" (no capitals) or "mixed". In the
        first two, case says nothing about names."""
        if self._style is None:
            self._style = _case_style(self._shapes)
        return self._style

    def vetoed(self, tok: _Token) -> bool:
        """An allow-list says this word that no English list knows is no name: the drug dictionary
        always; Philter's whitelist and one-edit misspellings where case says nothing (a lower-case
        word, an abbreviation in capitals, a note all in one case). English words are left to the
        rules, which already know them (White, Brown, Key)."""
        if tok.word_class not in ("unknown", "name"):
            return False
        lex, low = self.lex, tok.lower
        if low in lex.drugs:
            return True
        if self.style() == "mixed":
            if tok.cap and not tok.surface.isupper():
                return False  # Vinka, Glyceria: a capitalised rare word in a cased text may well be a name
            if any(t.lower in _MEETING_VERBS for t in self.tokens[max(0, tok.index - 2):tok.index]):
                return False  # "met marika", "hate that kornel": a verb of people, in a text whose case means something
        return low in lex.veto or lex.is_misspelling(low)

    def context(self, tok: _Token) -> str | None:
        """What the one to three words before the token say: "title", "intro", "kin", "label", "weak"."""
        i = tok.index
        if i == 0:
            return None
        prev = self.tokens[i - 1]
        if prev.lower not in _CONTEXT_WORDS and len(prev.surface) != 1:
            return None  # what _context finds without a context word or an initial before the token
        found = self._contexts.get(i, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._contexts[i] = _context(self.text, self.tokens, i)
        return found

    def after(self, tok: _Token) -> str:
        return after(self.text, tok.end)

    def after_initial(self, tok: _Token) -> bool:
        """Right after a capital initial and its dot: "K. Hickman"."""
        if tok.index == 0:
            return False
        prev = self.tokens[tok.index - 1]
        return len(prev.surface) == 1 and prev.surface.isupper() and self.text[prev.end:tok.start] in (". ", ".")

    def dose_after(self, tok: _Token) -> bool:
        """A dose right after the token: "Zoloft 50 mg". A dose holds a digit, so the dose regex is
        tried only when a digit run begins in the window after the token (which ends in a letter)."""
        starts = anchors.digit_starts(self.text)
        k = bisect_left(starts, tok.end)
        return k < len(starts) and starts[k] < tok.end + WINDOW and label_after(_DOSE_AFTER, self.text, tok.end) is not None

    def starts_sentence(self, tok: _Token) -> bool:
        return _starts_sentence(self.text, tok.start)

    def is_dialogue(self) -> bool:
        """Some line opens with "<first name>:": the other "<Word>:" openings are speakers too."""
        if self._dialogue is None:
            text, lex = self.text, self.lex
            self._dialogue = any(text[t.end:t.end + 1] == ":" and t.lower in lex.first_names and
                                 lex.classify(t.lower) == "name" and _starts_sentence(text, t.start)
                                 for t in self.tokens)
        return self._dialogue

    def past_tense_next(self, tok: _Token) -> bool:
        i, tokens = tok.index, self.tokens
        if i + 1 >= len(tokens) or self.text[tok.end:tokens[i + 1].start] != " ":
            return False
        nxt = tokens[i + 1].lower
        return nxt in _PAST_VERBS or nxt.endswith("ed") and len(nxt) > 4 and self.lex.classify(nxt) == "word"

    def next_is_name(self, tok: _Token) -> bool:
        i, tokens = tok.index, self.tokens
        if i + 1 >= len(tokens) or not _adjacent(self.text, tok, tokens[i + 1]):
            return False
        nxt = tokens[i + 1]
        return nxt.surface[0].isupper() and self.lex.classify(nxt.lower) in ("name", "unknown")

    def verb_before(self, tok: _Token) -> bool:
        # (for the first token this reads the last one, as it always has; the rules that ask first
        # require a context or a token that does not start the text, so it never matters there)
        return self.tokens[tok.index - 1].lower in _VERBS_BEFORE

    def person_word_before(self, tok: _Token) -> bool:
        """Right after "told", "met", "with"...: "I hate that attila"."""
        if tok.index == 0:
            return False
        prev = self.tokens[tok.index - 1]
        return prev.lower in _BEFORE_PERSON and not self.text[prev.end:tok.start].strip()

    def name_evidence(self, tok: _Token) -> bool:
        """Signs that a capitalised unknown first word is a person: a name or a verb of people after
        it, a possessive, letters no English word has (Ø, ő, ş), or the same word mid-sentence."""
        text = self.text
        if not tok.surface.isascii() or self.next_is_name(tok) or self.past_tense_next(tok):
            return True
        if label_after(_SPEECH_AFTER, text, tok.end) or text[tok.end:tok.end + 1] in ("'", "’", ","):
            return True
        if label_after(_PERSON_VERB_AFTER, text, tok.end):
            return True
        return any(t.surface == tok.surface and not _starts_sentence(text, t.start)
                   for t in self.tokens if t is not tok)


# -- the rules. Each looks at one token and returns a pattern name (a name), NOT_A_NAME, or None (no
# say). A rule is asked only about the tokens in its scope (capitalised or not; word classes) that no
# rule before it decided. A rule made by _always decides every such token the same way -------------
Rule = Callable[[_Doc, _Token], str | None]
WORD_CLASSES = ("allow", "word", "common-name", "name-word", "name", "unknown")
_SCOPES: dict[Rule, tuple[bool | None, frozenset[str]]] = {}
_ALWAYS: dict[Rule, str] = {}


def _scope(cap: bool | None = None, classes: tuple[str, ...] = WORD_CLASSES) -> Callable[[Rule], Rule]:
    def register(rule: Rule) -> Rule:
        _SCOPES[rule] = (cap, frozenset(classes))
        return rule
    return register


def _always(verdict: str, cap: bool | None = None, classes: tuple[str, ...] = WORD_CLASSES) -> Rule:
    def rule(doc: _Doc, tok: _Token) -> str | None:
        return verdict
    _ALWAYS[rule] = verdict
    return _scope(cap, classes)(rule)


# the bulk of any text: a lower-case English or allow-listed word
_everyday_lowercase = _always(NOT_A_NAME, cap=False, classes=("word", "allow"))


@_scope()
def _never_a_name(doc: _Doc, tok: _Token) -> str | None:
    """Stop words, abbreviated titles and degrees, single letters, contractions (I'm, can't)."""
    low, surface = tok.lower, tok.surface
    if low in _STOP or low in _TITLE_WORDS or len(surface) < 2 or _is_contraction(surface):
        return NOT_A_NAME
    return None


@_scope()
def _odd_capitals(doc: _Doc, tok: _Token) -> str | None:
    """QTc, hCG, iPhone: lab and brand spellings, unlike McDonald or DeShawn; after a title it is a
    name however it is spelled (Mr. LaQuanda, Dr. VanDerBeek)."""
    if _irregular_case(tok.surface) and not _NAME_PREFIX.match(tok.surface):
        return "title" if tok.cap and doc.context(tok) == "title" else NOT_A_NAME
    return None


@_scope()
def _clinical_word(doc: _Doc, tok: _Token) -> str | None:
    """An allow-listed word, a drug before its dose, an eponym before its head word (Bell's palsy):
    a name only after a title, a first name after a relative (Dr. Bell, my therapist June), or an
    allow-listed word after an initial (K. Hickman)."""
    if tok.word_class == "allow" or doc.dose_after(tok) or \
            tok.lower in doc.lex.eponyms and doc.lex.is_eponym_use(tok.lower, doc.after(tok)):
        context = doc.context(tok)
        if tok.cap and (context == "title" or context == "kin" and tok.lower in doc.lex.first_names):
            return context
        if tok.cap and tok.word_class == "allow" and doc.after_initial(tok):
            return "initial-and-surname"  # "Dictated by K. Hickman": a surname, not the catheter
        return NOT_A_NAME
    return None



@_scope()
def _titled_or_introduced(doc: _Doc, tok: _Token) -> str | None:
    """Dr. X, Mrs x, my name is X, Dear X; an English word there only when capitalised."""
    context = doc.context(tok)
    if context in ("title", "intro"):
        return context if tok.cap or tok.word_class != "word" else NOT_A_NAME
    return None


@_scope()
def _relative(doc: _Doc, tok: _Token) -> str | None:
    """my sister jenny, her therapist June: any name-like word, or a capitalised non-English one."""
    if not (tok.word_class in ("name", "name-word", "unknown") or tok.lower in doc.lex.first_names or
            tok.cap and tok.word_class != "word"):
        return None  # (the word itself first: many words are never asked for their context)
    return "kin" if doc.context(tok) == "kin" else None


@_scope(classes=("common-name", "name-word", "name", "unknown"))
def _kin_word(doc: _Doc, tok: _Token) -> str | None:
    """"SON JIM", "daughter-lucy", "husband, tom,", "NIECE, CIARAN": a first name, or a census name or
    unknown word that no allow-list vetoes, right after a relative word, in any case."""
    low = tok.lower
    if len(low) < 3 or not (low in doc.lex.first_names and low not in doc.lex.allow or
                            tok.word_class in ("name", "unknown")):
        return None  # no relative word before makes this word a name
    if tok.index == 0:
        return None
    prev = doc.tokens[tok.index - 1]
    if prev.lower not in _KIN_BARE or not _KIN_GAP.match(doc.text, prev.end, tok.start):
        return None
    if low in doc.lex.first_names and low not in doc.lex.allow or \
            tok.word_class in ("name", "unknown") and not doc.vetoed(tok):
        return "kin-word"
    return None


@_scope(cap=False, classes=("common-name", "name-word", "name", "unknown"))
def _lowercase_after_label(doc: _Doc, tok: _Token) -> str | None:
    """"attending: crystal hayes": a lower-case first name, census name or unknown word right after a
    form label ("Name:", "Attending:"), as in capitals ("NAME: SMITH")."""
    low = tok.lower
    if len(low) < 3 or not (low in doc.lex.first_names and low not in doc.lex.allow or
                            tok.word_class in ("name", "unknown")):
        return None  # no label before makes this word a name
    if doc.context(tok) != "label":
        return None
    if low in doc.lex.first_names and low not in doc.lex.allow or \
            tok.word_class in ("name", "unknown") and not doc.vetoed(tok):
        return "lowercase-label"
    return None


@_scope(classes=("unknown", "name"))  # the classes vetoed() may veto
def _allow_list_veto(doc: _Doc, tok: _Token) -> str | None:
    """Propofol, Lopressor, aggitation: a word an allow-list (Philter's whitelist, drug names) knows
    or a misspelling is no name on weak evidence; a title, relative, introduction or label still wins."""
    if doc.vetoed(tok) and doc.context(tok) not in ("title", "intro", "kin", "label"):
        return NOT_A_NAME
    return None


@_scope()
def _all_capitals(doc: _Doc, tok: _Token) -> str | None:
    """SMITH in a header is a dictionary name; anything else in capitals only after a label (NAME:).
    In a note all in capitals, only a census name that is no English word (a word class "name")."""
    surface = tok.surface
    if not surface.isupper():
        return None
    if tok.word_class in ("name", "name-word") and len(surface) > 2 and \
            (tok.word_class == "name" or doc.style() != "upper"):
        return "caps-dictionary"
    return "caps-label" if doc.context(tok) == "label" and len(surface) > 2 else NOT_A_NAME


@_scope(cap=False, classes=("name",))
def _lowercase_first_name(doc: _Doc, tok: _Token) -> str | None:
    """terrence: a census first name that is no English word, in lower case."""
    if tok.lower in doc.lex.first_names and len(tok.lower) > 2:
        return "lowercase-first-name"
    return None


@_scope(cap=False, classes=("name-word",))
def _lowercase_first_name_before_verb(doc: _Doc, tok: _Token) -> str | None:
    """"jess cancelled on me": a first name that is also a word, before a past-tense verb."""
    if tok.lower in doc.lex.first_names and doc.past_tense_next(tok):
        return "lowercase-first-name-before-verb"
    return None


@_scope(cap=False, classes=("unknown", "name", "name-word"))
def _lowercase_after_verb(doc: _Doc, tok: _Token) -> str | None:
    """"met terrence", "told nguyen": a name-like lower-case word right after a verb of people (an
    unknown word only where case means something: not in a note all in lower case)."""
    if tok.word_class == "unknown" and doc.style() == "lower":
        return None
    if doc.context(tok) == "weak" and len(tok.lower) > 2 and doc.verb_before(tok):
        return "lowercase-after-verb"
    return None


@_scope(cap=False, classes=("unknown", "name", "name-word"))
def _lowercase_unknown(doc: _Doc, tok: _Token) -> str | None:
    """"I hate that attila": an unknown word with non-ASCII letters, or a name-like word after a
    person word; not one with a clinical ending, nor an ASCII unknown word in a note all in lower case
    (there it is shorthand far more often than a name)."""
    low, word_class = tok.lower, tok.word_class
    if len(low) <= 2 or not low.isalpha() or _CLINICAL_SUFFIX.search(low) or \
            word_class == "unknown" and low.isascii() and doc.style() == "lower":
        return None
    after_person_word = doc.person_word_before(tok)
    if word_class == "unknown" and (not low.isascii() or after_person_word) or \
            after_person_word and (word_class == "name" or word_class == "name-word" and low in doc.lex.first_names):
        return "lowercase-unknown"
    return None


# any other lower-case word
_other_lowercase = _always(NOT_A_NAME, cap=False)


# Nguyen, Terrence: a capitalised census name that is no English word
_census_name = _always("dictionary", cap=True, classes=("name",))


@_scope(cap=True, classes=("unknown",))
def _clinical_ending(doc: _Doc, tok: _Token) -> str | None:
    """Euthymic, Akathisia: an unknown word with a clinical ending and no context."""
    if _CLINICAL_SUFFIX.search(tok.lower) and doc.context(tok) is None:
        return NOT_A_NAME
    return None


@_scope(cap=True, classes=("unknown",))
def _hyphenated_words(doc: _Doc, tok: _Token) -> str | None:
    """Court-appointed, Follow-up: hyphenated English words (Anna-Marie has a name part)."""
    if "-" in tok.lower and not any(doc.lex.classify(part) in ("name", "unknown") for part in tok.lower.split("-")):
        return NOT_A_NAME
    return None


@_scope(cap=True, classes=("unknown",))
def _header_or_speaker(doc: _Doc, tok: _Token) -> str | None:
    """"Abd:", "Neuro:" are header labels, unless the text is a dialogue ("Nicole: ...")."""
    if doc.text[tok.end:tok.end + 1] == ":" and not doc.context(tok):
        return "speaker" if doc.is_dialogue() else NOT_A_NAME
    return None


@_scope(cap=True, classes=("unknown",))
def _unexplained_first_word(doc: _Doc, tok: _Token) -> str | None:
    """"Ingrezza started", "Euthymic.": a sentence's first word needs some sign of a person."""
    if doc.starts_sentence(tok) and not doc.context(tok) and not doc.name_evidence(tok):
        return NOT_A_NAME
    return None


# Szöllösy, Karataev: anything capitalised that no list knows is suspect (Philter)
_unknown_capitalised = _always("unknown-capitalised", cap=True, classes=("unknown",))


@_scope(cap=True, classes=("word",))
def _capitalised_after_verb(doc: _Doc, tok: _Token) -> str | None:
    """"met Will", "with Hope": a capitalised English word mid-sentence after a verb of people."""
    if not doc.starts_sentence(tok) and doc.verb_before(tok):
        return "capitalised-after-verb"
    return None


# any other capitalised English word
_capitalised_word = _always(NOT_A_NAME, cap=True, classes=("word",))


# from here on the token is a capitalised everyday word that is also a name: Rose, Hope, Mark
# (common), Kelly, Weekly, Born (rarer)
@_scope(cap=True, classes=("common-name", "name-word"))
def _name_word_mid_sentence(doc: _Doc, tok: _Token) -> str | None:
    """"I told Rose": capitalised mid-sentence."""
    return "capitalised-name-word" if not doc.starts_sentence(tok) else None


@_scope(cap=True, classes=("common-name", "name-word"))
def _first_name_word(doc: _Doc, tok: _Token) -> str | None:
    """Nancy, Kelly at a sentence start: a rarer word, and a first name."""
    if tok.word_class == "name-word" and tok.lower in doc.lex.first_names:
        return "first-name-word"
    return None


@_scope(cap=True, classes=("common-name", "name-word"))
def _first_name_before_verb(doc: _Doc, tok: _Token) -> str | None:
    """"Grace picked me up", "Frank drove"."""
    if tok.lower in doc.lex.first_names and doc.past_tense_next(tok):
        return "first-name-before-verb"
    return None


@_scope(cap=True, classes=("common-name", "name-word"))
def _name_word_in_context(doc: _Doc, tok: _Token) -> str | None:
    """"Mark said", "Hope Jones", a context before it; "Mark's", "Nicole:" only for first names
    ("Driver's license", "Scales:" are not people)."""
    text = doc.text
    speech = label_after(_SPEECH_AFTER, text, tok.end)
    if speech and not speech.group().startswith(("'", "’")) or doc.context(tok) or doc.next_is_name(tok) \
            or text[tok.end:tok.end + 1] in (":", "'", "’") and tok.lower in doc.lex.first_names:
        return "name-word-in-context"
    return None


# a capitalised everyday word with no sign of a person: "Will it help?", "Hope so."
_everyday_word = _always(NOT_A_NAME, cap=True, classes=("common-name", "name-word"))


RULES: tuple[tuple[str, Rule], ...] = (
    ("everyday-lowercase", _everyday_lowercase),
    ("never-a-name", _never_a_name),
    ("odd-capitals", _odd_capitals),
    ("clinical-word", _clinical_word),
    ("titled-or-introduced", _titled_or_introduced),
    ("relative", _relative),
    ("kin-word", _kin_word),
    ("lowercase-after-label", _lowercase_after_label),
    ("allow-list-veto", _allow_list_veto),
    ("all-capitals", _all_capitals),
    ("lowercase-first-name", _lowercase_first_name),
    ("lowercase-first-name-before-verb", _lowercase_first_name_before_verb),
    ("lowercase-after-verb", _lowercase_after_verb),
    ("lowercase-unknown", _lowercase_unknown),
    ("other-lowercase", _other_lowercase),
    ("census-name", _census_name),
    ("clinical-ending", _clinical_ending),
    ("hyphenated-words", _hyphenated_words),
    ("header-or-speaker", _header_or_speaker),
    ("unexplained-first-word", _unexplained_first_word),
    ("unknown-capitalised", _unknown_capitalised),
    ("capitalised-after-verb", _capitalised_after_verb),
    ("capitalised-word", _capitalised_word),
    ("name-word-mid-sentence", _name_word_mid_sentence),
    ("first-name-word", _first_name_word),
    ("first-name-before-verb", _first_name_before_verb),
    ("name-word-in-context", _name_word_in_context),
    ("everyday-word", _everyday_word),
)


# per capitalisation and word class: the rules of RULES, in order, whose scope holds such a token, and
# (the rule, its verdict) when the first of them decides all such tokens alike (lower-case words: most)
_PLAN: dict[bool, dict[str, tuple[tuple[str, Rule], ...]]] = {
    cap: {word_class: tuple((name, rule) for name, rule in RULES
                            if _SCOPES[rule][0] in (None, cap) and word_class in _SCOPES[rule][1])
          for word_class in WORD_CLASSES}
    for cap in (True, False)
}
_SETTLED: dict[bool, dict[str, tuple[str, str]]] = {
    cap: {word_class: (plan[0][0], _ALWAYS[plan[0][1]]) for word_class, plan in plans.items()
          if plan[0][1] in _ALWAYS}
    for cap, plans in _PLAN.items()
}


def decide(doc: _Doc, tok: _Token) -> tuple[str, str]:
    """(the deciding rule, its verdict): of the rules in scope for the token, the first with a verdict."""
    settled = _SETTLED[tok.cap].get(tok.word_class)
    if settled is not None:
        return settled
    for rule_name, rule in _PLAN[tok.cap][tok.word_class]:
        verdict = rule(doc, tok)
        if verdict is not None:
            return rule_name, verdict
    return "", NOT_A_NAME


class _SurfaceOnly:
    """What a rule may read of a token that depends on its surface alone (no offsets, no index)."""

    __slots__ = ("surface", "lower", "word_class", "cap")

    def __init__(self, surface: str, lower: str, word_class: str, cap: bool):
        self.surface, self.lower, self.word_class, self.cap = surface, lower, word_class, cap


class _LexiconOnly:
    """What a rule may read of a document that is the same in every document: the word lists."""

    __slots__ = ("lex",)

    def __init__(self, lex: lexicon.Lexicon):
        self.lex = lex


class _NoContext(_LexiconOnly):
    """The same, for a token after a word that opens no context (``_opens_context``): then the
    document says it has no context and follows no initial, whatever else it holds."""

    __slots__ = ()

    def context(self, tok: object) -> None:
        return None  # (what _Doc.context answers there without looking further)

    def after_initial(self, tok: object) -> bool:
        return False


def _opens_context(surface: str, lower: str) -> bool:
    """Whether the token after one with this surface may have a context (_Doc.context) or follow an
    initial (_Doc.after_initial): a context word or a single letter."""
    return lower in _CONTEXT_WORDS or len(surface) == 1


_SurfacePlan = tuple[tuple[tuple[str, Rule], ...], tuple[str, str] | None]
_Decision = tuple[bool, str, str, _SurfacePlan | None]  # name, pattern, rule; or the plan when undecided
_Part = tuple[int, int, str, str, str, bool, bool, _Decision, _Decision, int]
_KNOWN_MAX = 50_000


def _surface_plan(lex: lexicon.Lexicon, surface: str, lower: str, word_class: str, cap: bool,
                  opened: bool = True) -> _SurfacePlan:
    """decide() for every token with this surface, as far as the surface alone decides: the rules of
    ``_PLAN`` that need the document (its text, tokens or context) to answer, in order, and (the rule,
    its verdict) for the first rule after them that answers from the surface and word lists alone
    (None: no rule does). Each rule is run on the surface alone (``_SurfaceOnly``, ``_LexiconOnly``):
    one that reads anything else (an offset, a neighbour, the text) raises AttributeError and is kept;
    one that returns None without has no say about such a token in any document and is dropped; one
    that returns a verdict decides every such token the rules kept before it leave undecided. The
    rules read nothing but the token and the document, so this asks the same rules the same questions
    as decide() and gets the same verdicts, with most rules asked once per surface instead of once per
    token. ``opened`` False: the plan for a token after a word that opens no context, where the rules
    also learn that it has none (``_NoContext``)."""
    token: Any = _SurfaceOnly(surface, lower, word_class, cap)
    doc: Any = _LexiconOnly(lex) if opened else _NoContext(lex)
    kept: list[tuple[str, Rule]] = []
    for rule_name, rule in _PLAN[cap][word_class]:
        try:
            verdict = rule(doc, token)
        except AttributeError:
            kept.append((rule_name, rule))
            continue
        if verdict is not None:
            return tuple(kept), (rule_name, verdict)
    return tuple(kept), None


def _after_signing_word(text: str, start: int, end: int) -> bool:
    """"Note written by L.J.", "cc: K.W.": initials alone are a name after a signing word."""
    words = before(text, start).lower().split()
    return bool(words) and words[-1].strip(":,") in _INITIALS_BEFORE


def _signed_surname(text: str, start: int, end: int) -> bool:
    """The signer's surname is no English or clinical word ("seen by j. moreno rrt", not "a patient rn")
    and the first of two full words is no stop word or English word either."""
    classes = lexicon.load().classes
    words = [w.strip(".'’-") for w in text[start:end].replace(".", ". ").split()]
    # after an initial with its dot a clinical word is a surname too: "K. Hickman, PMHNP", "j. foley rn"
    not_surnames = ("word",) if text[start + 1:start + 2] == "." else ("word", "allow")
    if not words or classes.get(words[-1].lower(), "unknown") in not_surnames or words[-1].lower() in _STOP:
        return False
    if len(words) == 2 and len(words[0]) > 1:  # first and last name: neither a word
        return classes.get(words[0].lower(), "unknown") not in ("word", "allow") and words[0].lower() not in _STOP
    return True


class NameDetector(PatternDetector):
    """Tokens decided by RULES, joined with their neighbours; plus declared patterns (initials after a
    signing word, signatures before a credential)."""

    name = "name"
    kind = "NAME"
    patterns = (
        Pattern("initials", _INITIALS, 0.8, needs=holds(r"\.[ ]?[A-Z]\.", words=(".",), lead="[A-Z]"),
                validate=_after_signing_word),
        Pattern("signature", _SIGNATURE, 0.8, needs=_SIGNATURE_NEEDS, within=_credential_lines,
                validate=_signed_surname),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lex = lexicon.load()
        self._known: dict[str, tuple[_Part, ...]] = {}  # matched word -> its tokens' parts (_tokens)

    def find(self, text: str) -> Iterator[PhiSpan]:
        tokens = self._classified(text)
        self._same_name_elsewhere(tokens)
        self._extend(text, tokens)
        yield from self._spans(text, tokens)
        yield from super().find(text)

    def explain(self, text: str) -> list[tuple[str, str, str]]:
        """(token, deciding rule, verdict) for each token, before neighbours join: for debugging."""
        return [(t.surface, t.rule, t.pattern) for t in self._classified(text)]

    def _classified(self, text: str) -> list[_Token]:
        tokens, undecided, shapes = self._tokens(text)
        doc = _Doc(text, tokens, self.lex, shapes)
        for tok, (rules, decided) in undecided:  # decide(), inline, for the tokens their surface leaves open
            for rule_name, rule in rules:
                verdict = rule(doc, tok)
                if verdict is not None:
                    tok.rule, tok.pattern, tok.name = rule_name, verdict, verdict != NOT_A_NAME
                    break
            else:
                if decided is not None:
                    tok.rule, tok.pattern = decided
                    tok.name = tok.pattern != NOT_A_NAME
        return tokens

    def _tokens(self, text: str) -> tuple[list[_Token], list[tuple[_Token, _SurfacePlan]], list[int]]:
        """The text's tokens ("DAUGHTER-LUCY" is two: a relative word and a name), those whose surface
        leaves rules to ask (with their plan: ``_surface_plan``), and each token's shape (``_shape``).
        A token whose surface decides it is made decided; after a word that opens no context
        (``_opens_context``, and the first token) the surface decides more. A token's surface, class,
        plans and shape depend on the matched word alone: worked out once per word (notes repeat their
        words) and kept (up to ``_KNOWN_MAX`` words, then all forgotten at once)."""
        known = self._known
        tokens: list[_Token] = []
        undecided: list[tuple[_Token, _SurfacePlan]] = []
        shapes: list[int] = []
        opened = False  # the token before opens a context (none before the first)
        scan, string = anchors.folded(_TOKEN, text)  # case-sensitive: the string is the text
        for m in scan.finditer(string):
            word = m.group()
            parts = known.get(word)
            if parts is None:
                if len(known) >= _KNOWN_MAX:
                    known.clear()
                parts = known[word] = self._parts(word)
            start = m.start()
            for offset, length, surface, lower, word_class, cap, opens, in_context, out_of_context, shape in parts:
                name, pattern, rule, plan = in_context if opened else out_of_context
                begin = start + offset
                tok = _Token(begin, begin + length, surface, lower, len(tokens), word_class, cap, name, pattern, rule)
                tokens.append(tok)
                if plan is not None:
                    undecided.append((tok, plan))
                shapes.append(shape)
                opened = opens
        return tokens, undecided, shapes

    def _parts(self, word: str) -> tuple[_Part, ...]:
        """What ``_tokens`` makes of a matched word: one token, or two for "DAUGHTER-LUCY" (a relative
        word and a name); each as (offset in the word, length, surface, lower case, word class,
        capitalised, whether it opens a context, its decision after a word that opens one and after
        one that does not, shape). A decision is (name, pattern, rule) as decided by the surface alone
        when it decides, else its plan."""
        classes = self.lex.classes
        pieces = [(0, word)]
        if "-" in word:
            head = word.partition("-")[0]
            if head.lower() in _KIN_BARE:
                pieces = [(0, head), (len(head) + 1, word[len(head) + 1:])]
        parts = []
        for offset, surface in pieces:
            if "'" in surface or "’" in surface:
                surface = _POSSESSIVE.sub("", surface) or surface
            lower = surface.lower()
            word_class = classes.get(lower, "unknown")
            cap = surface[0].isupper()
            decisions = [self._decision(_surface_plan(self.lex, surface, lower, word_class, cap, opened))
                         for opened in (True, False)]
            parts.append((offset, len(surface), surface, lower, word_class, cap, _opens_context(surface, lower),
                          decisions[0], decisions[1], _shape(surface)))
        return tuple(parts)

    @staticmethod
    def _decision(plan: _SurfacePlan) -> _Decision:
        """(name, pattern, rule, None) when no rule needs the document (a _Token's defaults when no rule
        decides), else (the defaults, the plan)."""
        rules, decided = plan
        if rules:
            return False, "", "", plan
        if decided is None:
            return False, "", "", None
        return decided[1] != NOT_A_NAME, decided[1], decided[0], None

    def _same_name_elsewhere(self, tokens: list[_Token]) -> None:
        # a word found as a name once is that name everywhere in the document ("Duqyaha ... Duqyaha"),
        # but not where an allow-list vetoes it, so one mistake does not spread
        found = {t.surface for t in tokens if t.name and len(t.surface) > 2 and t.pattern not in _WEAK_PATTERNS}
        if not found:
            return
        veto = self.lex.veto
        for tok in tokens:
            if not tok.name and tok.surface in found and tok.word_class != "allow" and tok.lower not in veto:
                tok.name, tok.pattern = True, "same-name-elsewhere"

    # -- neighbours ----------------------------------------------------------------------------------
    def _extend(self, text: str, tokens: list[_Token]) -> None:
        """Initials, particles and capitalised neighbours join an adjacent name."""
        for _ in range(2):
            named = [i for i, tok in enumerate(tokens) if tok.name]
            candidates = {j for i in named for j in (i - 1, i + 1) if 0 <= j < len(tokens) and not tokens[j].name}
            for i in sorted(candidates):
                tok = tokens[i]
                left = tokens[i - 1] if i > 0 and _adjacent(text, tokens[i - 1], tok) else None
                right = tokens[i + 1] if i + 1 < len(tokens) and _adjacent(text, tok, tokens[i + 1]) else None
                if (left and left.name) or (right and right.name):
                    if self._joins(text, tok, left, right):
                        tok.name, tok.pattern = True, "neighbour"
            self._join_caps_pairs(text, tokens)

    def _joins(self, text: str, tok: _Token, left: _Token | None, right: _Token | None) -> bool:
        low, surface = tok.lower, tok.surface
        if len(surface) == 1:
            # an initial: "J. Smith", "Martim A Pereira", "eric g. samoylova"; "A"/"I" alone only between
            # two names or with a dot ("A. Smith")
            between = bool(left and left.name and right and (
                right.name or right.surface[0].islower() == left.surface[0].islower() and
                right.word_class in ("name", "unknown", "name-word")))
            if surface.islower() or low in ("i", "a"):
                # "SMITH, JOHN A": a capital after an all-capitals name is its middle initial
                caps_middle = bool(left and left.name and left.surface.isupper() and len(left.surface) > 1
                                   and surface.isupper())
                return between or caps_middle or surface.isupper() and text[tok.end:tok.end + 1] == "."
            return True
        if low in _PARTICLES:
            # "van der Avoirt", "de Lange": particles lead to a capitalised name on their right
            return bool(right and (right.name or right.lower in _PARTICLES) and right.surface[0].isupper()
                        or right and right.lower in _PARTICLES)
        if low in _STOP or low in _TITLE_WORDS or low in _KIN_BARE or _is_contraction(surface):
            return False
        word_class = tok.word_class
        if surface.isupper() and len(surface) > 1 and word_class in ("word", "allow"):
            return False  # "SON JOHN CALLED": an English word in capitals joins no name
        if surface[0].isupper():
            if word_class == "allow":
                # "Christian Gordon" (a first name before a name), "Troy Ward" (a surname after one)
                return bool(right and right.name and low in self.lex.first_names or
                            left and left.name and self.lex.is_name(low))
            if left and left.name:
                return True  # a capitalised word right after a name is its surname: "Tanay Sura"
            # before a name: "Serge Schmiedt", and at a sentence start "Tilde Lundström" but not "Told Sarah"
            if word_class != "word" or not _starts_sentence(text, tok.start):
                return True
            return bool(right and right.name and right.surface[0].isupper() and low not in _BEFORE_PERSON
                        and low not in _WEAK and not low.endswith(("ed", "ing", "ly"))
                        and right.word_class in ("name", "unknown"))
        if word_class in ("allow", "word"):
            return False
        # lower-case surname after a lower-case first name: "patricia desrosiers"
        return bool(left and left.name and not left.surface[0].isupper() and word_class in ("name", "unknown"))

    def _join_caps_pairs(self, text: str, tokens: list[_Token]) -> None:
        # "SMITH, JOHN" and "Smith, John" in headers: the part after the comma joins a name before it;
        # "Costa, Isabelle was brought in": a capitalised word before ", <first name>" is the surname
        # Each pair (tokens[i - 1], tokens[i]) is looked at in order, as a walk over every pair would,
        # but only the pairs with a name in them (the others change nothing): i after a token named
        # before the walk or at it, and i + 1 after a pair that named its second token.
        first_names = self.lex.first_names
        n = len(tokens)
        named = [i for i, tok in enumerate(tokens) if tok.name]
        i = 0
        for start in sorted({j for k in named for j in (k, k + 1) if 0 < j < n}):
            if start <= i:
                continue  # looked at already
            i = start
            while True:
                a, b = tokens[i - 1], tokens[i]
                if not a.name:
                    if b.name and b.lower in first_names and text[a.end:b.start] == ", " and \
                            a.surface[0].isupper() and a.word_class != "allow" and a.lower not in _KIN_BARE and (
                                a.surface.isupper() and b.surface.isupper() and len(a.surface) > 1 and
                                a.word_class != "word" or (
                                _starts_sentence(text, a.start) and
                                (i + 1 >= n or tokens[i + 1].lower in _AFTER_LAST_FIRST))):
                        a.name, a.pattern = True, "last-comma-first"
                elif not b.name and text[a.end:b.start] == ", " and b.surface[:1].isupper() and \
                        a.surface.isupper() == b.surface.isupper() and (
                            b.word_class in ("name", "unknown") or a.surface.isupper() and
                            b.word_class not in ("allow", "word") and len(b.surface) > 1):
                    b.name, b.pattern = True, "last-comma-first"
                if i + 1 < n and b.name:
                    i += 1  # the next pair has a name in it
                else:
                    break

    def _spans(self, text: str, tokens: list[_Token]) -> Iterator[PhiSpan]:
        following = 0  # the first token after the span before
        for i in [k for k, tok in enumerate(tokens) if tok.name]:
            if i < following:
                continue  # inside the span before
            j = i
            while j + 1 < len(tokens) and tokens[j + 1].name and (
                    _adjacent(text, tokens[j], tokens[j + 1]) or text[tokens[j].end:tokens[j + 1].start] == ", "
                    and tokens[j + 1].pattern == "last-comma-first"):
                j += 1
            end = tokens[j].end
            if len(tokens[j].surface) == 1 and text[end:end + 1] == ".":
                end += 1
            pattern = next((t.pattern for t in tokens[i:j + 1] if t.pattern not in ("neighbour", "last-comma-first")),
                           "neighbour")
            if not _names_an_organisation(text, tokens, j):
                yield self.span(tokens[i].start, end, pattern, 0.6 if pattern == "unknown-capitalised" else 0.8)
            following = j + 1


def _names_an_organisation(text: str, tokens: list[_Token], last: int) -> bool:
    """"Microbilt Corporation", "Loveland Technologies": a company, not a person (and not PHI)."""
    if last + 1 >= len(tokens) or not _adjacent(text, tokens[last], tokens[last + 1]):
        return False
    return tokens[last + 1].lower in _ORGANISATION_WORDS


@lru_cache(maxsize=4096)
def _irregular_case(surface: str) -> bool:  # asked of most capitalised tokens; notes repeat their words
    return not surface.isupper() and any(part[1:] != part[1:].lower() for part in surface.split("-"))


def _is_contraction(surface: str) -> bool:
    return ("'" in surface or "’" in surface) and bool(_CONTRACTION.search(surface))


# every context _context finds needs the word before the token to be one of these, or an initial
_CONTEXT_WORDS = _LABELS | _TITLES | _INTRO_ONE | {second for _, second in _INTRO_TWO} | _KIN | {"named", "called"} | _WEAK


def _context(text: str, tokens: list[_Token], i: int) -> str | None:
    """What the one to three words before token i say about it (None, unless the word before it is in
    ``_CONTEXT_WORDS`` or a single letter)."""
    if i == 0:
        return None
    prev = tokens[i - 1]
    gap = text[prev.end:tokens[i].start]
    if gap.strip() == ":" and prev.lower in _LABELS and "\n" not in gap:
        return "label"  # "Name:    Martim A Pereira"
    if len(gap) > 3 or "\n" in gap and not gap.startswith(":"):
        return None
    p1 = prev.lower
    p2 = tokens[i - 2].lower if i >= 2 else ""
    if p1 in _TITLES and gap.strip() in ("", "."):
        return "title"
    if len(prev.surface) == 1 and p2 in _TITLES:
        return "title"  # Dr. J. Smith
    if len(prev.surface) == 1 and prev.surface.isupper() and i >= 2:
        return _context(text, tokens, i - 1)  # "Dictated by R. Toft": the initial's context
    if gap.strip() in ("", ",", ":", ",:") and (p1 in _INTRO_ONE or (p2, p1) in _INTRO_TWO) and \
            not (p1 in ("called", "named") and gap != " "):  # "SON called, DAUGHTER aware": no introduction
        return "intro"
    if p1 in _KIN or (p1 in ("named", "called") and p2 in _KIN):
        window = {t.lower for t in tokens[max(0, i - 4):i - 1]}
        if window & _POSSESSIVES:
            return "kin"
    if gap.strip() == ":" and p1 in _LABELS:
        return "label"
    if p1 in _WEAK:
        return "weak"
    return None


_SHORT, _UPPER, _CAPITALISED, _OTHER = range(4)


def _shape(surface: str) -> int:
    """What _case_style counts of a token: under two letters, all in capitals, capitalised, other."""
    if len(surface) < 2:
        return _SHORT
    return _UPPER if surface.isupper() else _CAPITALISED if surface[0].isupper() else _OTHER


def _case_style(shapes: list[int]) -> str:
    """"upper" when 4 in 5 words of 2+ letters are in capitals, "lower" when under 1 in 50 starts
    with a capital (ALL-CAPS shorthand aside), else "mixed"; short texts are "mixed". Read from the
    tokens' shapes (``_shape``)."""
    words = len(shapes) - shapes.count(_SHORT)
    upper = shapes.count(_UPPER)
    capitalised = shapes.count(_CAPITALISED)
    if words < 8:
        return "mixed"
    if upper >= 0.8 * words:
        return "upper"
    return "lower" if capitalised < 0.02 * words else "mixed"


def _adjacent(text: str, a: _Token, b: _Token) -> bool:
    gap = text[a.end:b.start]
    if gap in (" ", "-"):
        return True
    # a dot only joins after an initial: "Tom I. Holzman", "J.R. Smith"
    return gap in (".", ". ") and len(a.surface) == 1


def _starts_sentence(text: str, start: int) -> bool:
    j = start - 1
    while j >= 0 and text[j] in " \t\"'“‘([-–—":
        j -= 1
    if j < 0 or text[j] in _SENTENCE_END:
        # "Dr." and initials end with a dot but do not end a sentence
        return not (text[j:j + 1] == "." and _TITLE_DOT.search(text, max(0, j - 5), j))
    return False
