"""Word lists bundled under phi/data, loaded once per process from the installed package.

Every lower-case token falls in one class (``Lexicon.classify``):
- ``allow``: clinical words, drugs, months, religions... never a name on its own;
- ``word``: English words that are not frequent names;
- ``common-name``: everyday words that are also frequent names (rose, hope, mark, brown, back);
- ``name-word``: rarer English words that are frequent names (nancy, kelly, smith, born);
- ``name``: census names that are no English word (nguyen, terrence);
- ``unknown``: anything else (foreign names, places, typos, brand names).

``allow`` also takes ``clinical_abbreviations.txt`` (nursing shorthand, drug short forms, devices).
Apart from the classes, ``veto`` holds the words that maintained allow-lists say are no names
(Philter's non-name whitelist, drug names: see ``phi.allowlists``) less every census first name:
they veto weak name evidence (a capitalised unknown word, a census surname alone, a word after a
verb) but never strong context (a title, a relative, a label, a signature).

The name detector's small word lists (titles, relatives, stop words... ``name_*.txt``) are read
here too, by ``word_list`` and ``word_pairs``.
"""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from . import allowlists

EPONYM_HEAD = re.compile(r"^(?:['’]s?)?\s*(?:disease|syndrome|palsy|sign|signs|scale|test|score|inventory|criteria|"
                          r"catheter|phenomenon|disorder|sarcoma|lymphoma|virus|reflex|maneuver|manoeuvre|"
                          r"triad|encephalopathy|chorea|dementia|depression|anxiety|hopkins|equation|"
                          r"questionnaire|coma|body|bodies|procedure|operation|stage|staging|ulcer|fracture|protocol|"
                          r"rating|suicide|severity|classification|method|technique|model|assessment)\b",
                          re.IGNORECASE)

# surnames past this frequency rank that are also English words count as plain words
_SURNAME_RANK_FOR_WORDS = 20000


def _read(name: str) -> list[str]:
    data = resources.files("phi").joinpath("data", name).read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    return [line.strip() for line in data.decode("utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


@dataclass(frozen=True)
class Lexicon:
    first_names: frozenset[str]
    last_names: frozenset[str]
    classes: dict[str, str]
    allow: frozenset[str]
    eponyms: frozenset[str]
    veto: frozenset[str] = frozenset()   # Philter's whitelist and drug names, less census first names
    drugs: frozenset[str] = frozenset()  # the drug names alone
    words: frozenset[str] = frozenset()  # the large English list, for one-edit misspellings

    def classify(self, lower: str) -> str:
        return self.classes.get(lower, "unknown")

    def is_eponym_use(self, lower: str, after: str) -> bool:
        """Bell's palsy, Down syndrome, Columbia protocol: a surname or place naming a medical thing."""
        return lower in self.eponyms and bool(EPONYM_HEAD.match(after))

    def is_name(self, lower: str) -> bool:
        return lower in self.first_names or lower in self.last_names

    def is_misspelling(self, lower: str) -> bool:
        """aggitation, moniter, responce: an unknown word one edit (a letter added, dropped, changed or
        two swapped) from an English word of 6+ letters."""
        if not 6 <= len(lower) <= 24 or not lower.isascii() or not lower.isalpha() or lower in self.classes:
            return False
        return _one_edit(lower, self.words)


@cache
def word_list(name: str) -> frozenset[str]:
    """A small list from phi/data: one entry a line, '#' lines are comments."""
    return frozenset(_read(name))


@cache
def word_pairs(name: str) -> frozenset[tuple[str, str]]:
    """A list of two-word phrases from phi/data ("name is", "seen by")."""
    pairs = [tuple(line.split()) for line in _read(name)]
    bad = [" ".join(p) for p in pairs if len(p) != 2]
    if bad:
        raise ValueError(f"{name}: not two words: {bad}")
    return frozenset((p[0], p[1]) for p in pairs)


@lru_cache(maxsize=1)
def load() -> Lexicon:
    first = frozenset(_read("census_first_names.txt.gz"))
    last_ranked = _read("census_last_names.txt.gz")
    last = frozenset(last_ranked)
    common = frozenset(_read("common_words.txt.gz"))
    large = frozenset(_read("english_words.txt.gz")) | common
    frequent_names = first | frozenset(last_ranked[:_SURNAME_RANK_FOR_WORDS])
    allow = frozenset(_read("allow_words.txt")) | frozenset(_read("clinical_abbreviations.txt"))
    classes: dict[str, str] = {}
    for name in first | last:
        classes[name] = "name"
    for word in large:
        if word not in frequent_names:
            classes[word] = "word"
        elif word in common:
            classes[word] = "common-name"
        else:
            classes[word] = "name-word"
    for word in allow:
        classes[word] = "allow"
    drugs = allowlists.load("drugs") - first
    veto = (allowlists.load("philter") - first) | drugs
    return Lexicon(first, last, classes, allow, frozenset(_read("eponyms.txt")), veto, drugs,
                   frozenset(w for w in large if len(w) >= 6))


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=65536)
def _one_edit(word: str, words: frozenset[str]) -> bool:
    """Some word of ``words`` is one edit away (cached: notes repeat their shorthand)."""
    for i in range(len(word) + 1):
        head, tail = word[:i], word[i:]
        if tail and len(word) > 6 and head + tail[1:] in words:
            return True  # a letter too many
        if len(tail) > 1 and head + tail[1] + tail[0] + tail[2:] in words:
            return True  # two letters swapped
        for c in _LETTERS:
            if head + c + tail in words:
                return True  # a letter missing
            if tail and c != tail[0] and head + c + tail[1:] in words:
                return True  # a letter changed
    return False
