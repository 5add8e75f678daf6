"""Person names (patients, relatives, clinicians) from dictionaries and context, no model.

Each token gets a lexical class from the bundled lists (see lexicon.py) and a context from the
words just before it. A token is a name when:
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
_CONTRACTION = re.compile(r"['’](?:m|ve|ll|re|d|t|mon|em|all)$", re.IGNORECASE)

_TITLES = frozenset("dr doctor mr mrs ms miss mx prof professor nurse rev reverend pastor fr sgt capt officer "
                    "coach judge attorney dra sra herr frau madam mme mlle sir lady lord dame".split())
_KIN = frozenset("""sister brother sis bro mom mother mum mommy mama dad father daddy papa husband wife son daughter
friend boyfriend girlfriend bf gf partner fiance fiancé fiancee fiancée spouse therapist psychiatrist psychologist
counselor counsellor doctor doc pcp coworker co-worker colleague boss manager supervisor aunt auntie uncle cousin
grandma grandmother grandpa grandfather granny nana niece nephew ex roommate neighbor neighbour stepmom stepdad
stepson stepdaughter stepmother stepfather stepbrother stepsister kid child baby sponsor teacher classmate bestie
bff twin caseworker worker nurse dietitian provider clinician attending resident intern landlord lawyer priest rabbi
imam caregiver carer guardian daughter-in-law son-in-law mother-in-law father-in-law sister-in-law brother-in-law
godmother godfather babysitter tutor mentor pastor wifey hubby""".split())
_POSSESSIVES = frozenset("my his her our their your pt's patient's the a whose".split())
_INTRO_ONE = frozenset("named called dear hi hey hello hiya thanks cheers love sincerely regards attn "
                       "signed cc c/o".split())
_INTRO_TWO = frozenset({("name", "is"), ("name", "was"), ("call", "me"), ("goes", "by"), ("names", "are"),
                        ("known", "as"), ("this", "is"), ("i", "am"), ("thank", "you"), ("seen", "by"),
                        ("spoke", "with"), ("spoke", "to"), ("talked", "to"), ("talked", "with"),
                        ("met", "with"), ("per", "dr"), ("dictated", "by"), ("written", "by"), ("reviewed", "by"),
                        ("signed", "by"), ("transcribed", "by"), ("authored", "by"), ("referred", "by"),
                        ("accompanied", "by"), ("evaluated", "by"), ("examined", "by"), ("seen", "by")})
_LABELS = frozenset("name patient pt client resident guardian contact parent mother father spouse from to "
                    "attending provider clinician author signed physician therapist psychiatrist nurse".split())
_WEAK = frozenset("with by from to and per patient pt met told texted called asked saw visited hugged "
                  "thank love cc signed miss missed".split())
_SPEECH_AFTER = re.compile(r"^(?:['’]s\b|\s+(?:said|says|told|asked|texted|called|yelled|replied|mentioned|"
                           r"messaged|emailed|thinks|wants|wanted|and\s+I|and\s+me|came|went|is\s+coming|"
                           r"is\s+an?\s+\d+|was\s+an?\s+\d+|reports|states|denies|presents)\b|,\s+(?:you|I)\b)",
                           re.IGNORECASE)
_DOSE_AFTER = re.compile(r"^\s*(?:\(?\w+\)?\s*)?\d+(?:\.\d+)?\s*(?:mg|mcg|µg|g|ml|units|iu|%|mEq)\b", re.IGNORECASE)
_CLINICAL_SUFFIX = re.compile(r"(?:itis|osis|emia|aemia|ectomy|otomy|ostomy|ology|opathy|algia|plasty|gram|graphy|"
                              r"scopy|pine|pam|lam|zine|done|pril|sartan|statin|olol|azole|mab|nib|cillin|mycin|"
                              r"oxetine|aline|pramine|triptyline|tidine|prazole|dipine|afil|formin|profen|codone|"
                              r"morphone|barbital|caine|asone|olone|phrine|health|care|med|pharm|care|scan|thymia|thymic|thisia|hedonia|"
                              r"phoria|kinesia|plegia|pathic|cephalic|tonic|genic|lepsy|mania|phobia|somnia|"
                              r"trophic|oxide|ectomy|emia|uria|itis)$")
_PARTICLES = frozenset("van von der den de del della di da du le la st bin ibn al el ben dos das mc mac ter".split())
_STOP = frozenset("""a an the and or but if of in on at to for from by with without about as into onto over under
i me my mine we us our you your he him his she her they them their it its this that these those there here
is am are was were be been being do does did have has had will would can could should may might must shall
not no yes so very too just also then than when where who whom whose what which why how all any some each
every both either neither one two three ok okay oh hi hey hello thanks please sorry well now still yet
lol omg tbh idk im ive dont cant wont didnt""".split())
_INITIALS = re.compile(r"(?<![\w.])(?:[A-Z]\.[ ]?){2,3}(?![\w])")
_INITIALS_BEFORE = frozenset("by signed cc dr per with to and from attending author initials seen".split())
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|De|Da|Di|Du|La|Le|Van|Von|O['’]|St|Del|Dos|Ja|Ke|Sha|Ta)[A-Z]")
_ORGANISATION_WORDS = frozenset("""inc corp corporation co company llc ltd plc gmbh ag sa technologies technology
group holdings partners associates systems solutions labs laboratories media records orchestra band foundation
bank insurance industries enterprises consulting capital ventures networks software pharmaceuticals pharma
motors airlines university college institute""".split())
# what follows a person at the start of a sentence: "Shovda is very reliable", "Usamov and Bowers"
_PERSON_VERB_AFTER = re.compile(r"^\s+(?:(?:is|was|lives|lived|works|worked|will|has|had|began|begins|loves|hates)\b|"
                                r"and\s+[A-Z])")
_WEAK_PATTERNS = frozenset({"lowercase-unknown", "capitalised-after-verb", "caps-label"})
_PAST_VERBS = frozenset("took came went said told gave got made drove brought left saw sent called wrote ran felt "
                        "thought knew says tells wants keeps thinks texts calls drives".split())
_AFTER_LAST_FIRST = frozenset("was is has had presents presented reports states denies came arrived".split())
_TITLE_WORDS = frozenset("dr mr mrs ms mx prof jr sr md phd rn np do pa lcsw pmhnp dnp msw lpc".split())
_SENTENCE_END = frozenset(".!?\n:;•*>|")


@dataclass(slots=True)
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
        tokens = [_token(m) for m in _TOKEN.finditer(text)]
        for i, tok in enumerate(tokens):
            tok.pattern = self._classify(text, tokens, i)
            tok.name = bool(tok.pattern)
        self._same_name_elsewhere(tokens)
        self._extend(text, tokens)
        yield from self._spans(text, tokens)
        yield from self._initials(text)

    def _initials(self, text: str) -> Iterator[PhiSpan]:
        # "Note written by L.J.", "cc: K.W.": initials alone are a name after a signing word
        if "." not in text:
            return
        for m in _INITIALS.finditer(text):
            before = text[max(0, m.start() - 20):m.start()].lower().split()
            if before and before[-1].strip(":,") in _INITIALS_BEFORE:
                yield self.span(m.start(), m.end(), "initials", 0.8)

    # -- one token -----------------------------------------------------------------------------------
    def _classify(self, text: str, tokens: list[_Token], i: int) -> str:
        tok, lex = tokens[i], self.lex
        low, surface = tok.lower, tok.surface
        word_class = lex.classify(low)
        cap = surface[0].isupper()
        if not cap and word_class in ("word", "allow"):
            return ""  # the bulk of any text: skip before anything else
        if low in _STOP or low in _TITLE_WORDS or len(surface) < 2 or _is_contraction(surface):
            return ""
        if _irregular_case(surface) and not _NAME_PREFIX.match(surface):
            # QTc, hCG, iPhone, SpO: lab and brand spellings, unlike McDonald or DeShawn; after a
            # title it is a name however it is spelled (Mr. LaQuanda, Dr. VanDerBeek)
            return "title" if cap and _context(text, tokens, i) == "title" else ""
        after = text[tok.end:tok.end + 30]
        if word_class == "allow" or _DOSE_AFTER.match(after) or lex.is_eponym_use(low, after):
            # a title or a relative still makes a name of it: Dr. Bell, Dr. French, my therapist June
            context = _context(text, tokens, i)
            if cap and (context == "title" or context == "kin" and low in lex.first_names):
                return context
            return ""
        context = _context(text, tokens, i)
        if context in ("title", "intro"):
            return context if cap or word_class != "word" else ""
        if context == "kin" and (word_class in ("name", "name-word", "unknown") or low in lex.first_names) or \
                context == "kin" and cap and word_class != "word":
            return "kin"
        if surface.isupper():
            if word_class in ("name", "name-word") and len(surface) > 2:
                return "caps-dictionary"
            return "caps-label" if context == "label" and len(surface) > 2 else ""
        if not cap:
            if word_class == "name" and low in lex.first_names and len(low) > 2:
                return "lowercase-first-name"
            if word_class == "name-word" and low in lex.first_names and self._past_tense_next(tokens, i, text):
                return "lowercase-first-name-before-verb"  # "jess cancelled on me"
            if context == "weak" and len(low) > 2 and _is_verb_before(text, tokens, i) and \
                    word_class in ("unknown", "name", "name-word"):
                return "lowercase-after-verb"
            after_person_word = i > 0 and tokens[i - 1].lower in _BEFORE_PERSON and \
                not text[tokens[i - 1].end:tok.start].strip()
            if len(low) > 2 and low.isalpha() and not _CLINICAL_SUFFIX.search(low) and (
                    word_class == "unknown" and (not low.isascii() or after_person_word) or
                    after_person_word and (word_class == "name" or word_class == "name-word" and
                                           low in lex.first_names)):
                return "lowercase-unknown"
            return ""
        if word_class == "name":
            return "dictionary"
        starts_sentence = _starts_sentence(text, tok.start)
        if word_class == "unknown":
            if _CLINICAL_SUFFIX.search(low) and context is None:
                return ""
            if "-" in low and not any(lex.classify(part) in ("name", "unknown") for part in low.split("-")):
                return ""  # Court-appointed, Follow-up
            if text[tok.end:tok.end + 1] == ":" and not context:
                # a header label ("Abd:", "Neuro:") unless the text is a dialogue ("Nicole: ...")
                return "speaker" if self._is_dialogue(text, tokens) else ""
            if starts_sentence and not context and not self._name_evidence(text, tokens, i):
                # "Ingrezza started", "Euthymic." : a sentence's first word needs some sign of a person
                return ""
            return "unknown-capitalised"
        if word_class == "word":
            return "capitalised-after-verb" if not starts_sentence and _is_verb_before(text, tokens, i) else ""
        # everyday words that are also names: Rose, Hope, Mark (common); Kelly, Weekly, Born (rarer)
        if not starts_sentence:
            return "capitalised-name-word"
        if word_class == "name-word" and low in lex.first_names:
            return "first-name-word"
        if low in lex.first_names and self._past_tense_next(tokens, i, text):
            return "first-name-before-verb"  # "Grace picked me up", "Frank drove"
        speech = _SPEECH_AFTER.match(text[tok.end:tok.end + 14])
        if speech and not speech.group().startswith(("'", "’")) or context or self._next_is_name(tokens, i, text) \
                or text[tok.end:tok.end + 1] in (":", "'", "’") and low in lex.first_names:
            # "Mark's", "Nicole:" only for first names: "Driver's license", "Scales:" are not people
            return "name-word-in-context"
        return ""

    def _is_dialogue(self, text: str, tokens: list[_Token]) -> bool:
        # some line opens with "<first name>:": the other "<Word>:" openings are speakers too
        return any(text[t.end:t.end + 1] == ":" and t.lower in self.lex.first_names and
                   self.lex.classify(t.lower) == "name" and _starts_sentence(text, t.start) for t in tokens)

    def _same_name_elsewhere(self, tokens: list[_Token]) -> None:
        # a word found as a name once is that name everywhere in the document ("Duqyaha ... Duqyaha")
        found = {t.surface for t in tokens if t.name and len(t.surface) > 2 and t.pattern not in _WEAK_PATTERNS}
        if not found:
            return
        for tok in tokens:
            if not tok.name and tok.surface in found and self.lex.classify(tok.lower) != "allow":
                tok.name, tok.pattern = True, "same-name-elsewhere"

    def _name_evidence(self, text: str, tokens: list[_Token], i: int) -> bool:
        """Signs that a capitalised unknown first word is a person: a name or a verb of people after
        it, a possessive, letters no English word has (Ø, ő, ş), or the same word mid-sentence."""
        tok = tokens[i]
        if not tok.surface.isascii() or self._next_is_name(tokens, i, text) or self._past_tense_next(tokens, i, text):
            return True
        if _SPEECH_AFTER.match(text[tok.end:tok.end + 14]) or text[tok.end:tok.end + 1] in ("'", "’", ","):
            return True
        if _PERSON_VERB_AFTER.match(text[tok.end:tok.end + 24]):
            return True
        return any(t.surface == tok.surface and not _starts_sentence(text, t.start) for t in tokens if t is not tok)

    def _past_tense_next(self, tokens: list[_Token], i: int, text: str) -> bool:
        if i + 1 >= len(tokens) or text[tokens[i].end:tokens[i + 1].start] != " ":
            return False
        nxt = tokens[i + 1].lower
        return nxt in _PAST_VERBS or nxt.endswith("ed") and len(nxt) > 4 and self.lex.classify(nxt) == "word"

    def _next_is_name(self, tokens: list[_Token], i: int, text: str) -> bool:
        if i + 1 >= len(tokens) or not _adjacent(text, tokens[i], tokens[i + 1]):
            return False
        nxt = tokens[i + 1]
        return nxt.surface[0].isupper() and self.lex.classify(nxt.lower) in ("name", "unknown")

    # -- neighbours ----------------------------------------------------------------------------------
    def _extend(self, text: str, tokens: list[_Token]) -> None:
        """Initials, particles and capitalised neighbours join an adjacent name."""
        for _ in range(2):
            candidates = {j for i, tok in enumerate(tokens) if tok.name for j in (i - 1, i + 1)
                          if 0 <= j < len(tokens) and not tokens[j].name}
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
                self.lex.classify(right.lower) in ("name", "unknown", "name-word")))
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
        if low in _STOP or low in _TITLE_WORDS or _is_contraction(surface):
            return False
        word_class = self.lex.classify(low)
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
                        and self.lex.classify(right.lower) in ("name", "unknown"))
        if word_class in ("allow", "word"):
            return False
        # lower-case surname after a lower-case first name: "patricia desrosiers"
        return bool(left and left.name and not left.surface[0].isupper() and word_class in ("name", "unknown"))

    def _join_caps_pairs(self, text: str, tokens: list[_Token]) -> None:
        # "SMITH, JOHN" and "Smith, John" in headers: the part after the comma joins a name before it;
        # "Costa, Isabelle was brought in": a capitalised word before ", <first name>" is the surname
        for i in range(1, len(tokens)):
            a, b = tokens[i - 1], tokens[i]
            caps_pair = a.surface.isupper() and b.surface.isupper() and len(a.surface) > 1
            if not a.name and b.name and b.lower in self.lex.first_names and text[a.end:b.start] == ", " and \
                    a.surface[0].isupper() and self.lex.classify(a.lower) != "allow" and (caps_pair or (
                        _starts_sentence(text, a.start) and
                        (i + 1 >= len(tokens) or tokens[i + 1].lower in _AFTER_LAST_FIRST))):
                a.name, a.pattern = True, "last-comma-first"
                continue
            if not a.name:
                continue
            if a.name and not b.name and text[a.end:b.start] == ", " and b.surface[:1].isupper() and \
                    a.surface.isupper() == b.surface.isupper() and (
                        self.lex.classify(b.lower) in ("name", "unknown") or a.surface.isupper() and
                        self.lex.classify(b.lower) != "allow" and len(b.surface) > 1):
                b.name, b.pattern = True, "last-comma-first"

    def _spans(self, text: str, tokens: list[_Token]) -> Iterator[PhiSpan]:
        i = 0
        while i < len(tokens):
            if not tokens[i].name:
                i += 1
                continue
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
            i = j + 1


def _token(m: re.Match[str]) -> _Token:
    surface = m.group()
    if "'" in surface or "’" in surface:
        surface = _POSSESSIVE.sub("", surface) or surface
    return _Token(m.start(), m.start() + len(surface), surface, surface.lower())


def _names_an_organisation(text: str, tokens: list[_Token], last: int) -> bool:
    """"Microbilt Corporation", "Loveland Technologies": a company, not a person (and not PHI)."""
    if last + 1 >= len(tokens) or not _adjacent(text, tokens[last], tokens[last + 1]):
        return False
    return tokens[last + 1].lower in _ORGANISATION_WORDS


def _irregular_case(surface: str) -> bool:
    return not surface.isupper() and any(part[1:] != part[1:].lower() for part in surface.split("-"))


def _is_contraction(surface: str) -> bool:
    return ("'" in surface or "’" in surface) and bool(_CONTRACTION.search(surface))


def _context(text: str, tokens: list[_Token], i: int) -> str | None:
    """What the one to three words before token i say about it."""
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
    if gap.strip() in ("", ",", ":", ",:") and (p1 in _INTRO_ONE or (p2, p1) in _INTRO_TWO):
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


_BEFORE_PERSON = frozenset("that and with told met saw texted called love miss hate like thank thanks asked hugged "
                           "visited tell ask call text see meet for".split())


def _is_verb_before(text: str, tokens: list[_Token], i: int) -> bool:
    return tokens[i - 1].lower in ("met", "told", "texted", "called", "asked", "saw", "visited", "hugged", "with",
                                   "and", "miss", "missed")


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
        return not (text[j:j + 1] == "." and re.search(r"\b(?:dr|mr|mrs|ms|st|prof|[A-Z])$",
                                                        text[max(0, j - 5):j], re.IGNORECASE))
    return False
