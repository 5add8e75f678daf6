"""Word lists bundled under phi/data, loaded once per process from the installed package."""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# surnames past this frequency rank that are also English words count as words, not names
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
    # words of everyday English that are also names (rose, hope, mark, brown): names only in context
    ambiguous: frozenset[str]
    # English words that are not names: never a name unless a strong context says so
    words: frozenset[str]
    allow: frozenset[str]
    eponyms: frozenset[str]

    def is_name(self, lower: str) -> bool:
        return lower in self.first_names or lower in self.last_names


@lru_cache(maxsize=1)
def load() -> Lexicon:
    first = frozenset(_read("census_first_names.txt.gz"))
    last_ranked = _read("census_last_names.txt.gz")
    last = frozenset(last_ranked)
    common = frozenset(_read("common_words.txt.gz"))
    large = frozenset(_read("english_words.txt.gz"))
    frequent_names = first | frozenset(last_ranked[:_SURNAME_RANK_FOR_WORDS])
    ambiguous = frequent_names & common
    words = (large - frequent_names) | common
    words = words - ambiguous
    return Lexicon(first, last, ambiguous, frozenset(words), frozenset(_read("allow_words.txt")),
                   frozenset(_read("eponyms.txt")))
