"""Consistent fake values: within one document the same identifier always gets the same stand-in.

Names are mapped token by token, so "John Smith" and a later "John" or "Mr. Smith" stay coherent.
The choice is seeded by the document text, so a document always scrubs the same way.
"""
from __future__ import annotations

import hashlib
import random
import re

from . import lexicon
from .spans import PhiSpan

_FAKE_FIRST = ("Alex", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Rowan",
               "Skyler", "Dana", "Robin", "Jesse", "Emery", "Sage", "Reese", "Kendall", "Logan", "Parker")
_FAKE_LAST = ("Lindqvist", "Okafor", "Marchetti", "Halvorsen", "Quintero", "Abernathy", "Castellano", "Whitlock",
              "Nakamura", "Petrov", "Delacroix", "Osei", "Brennan", "Sorensen", "Valdez", "Kowalczyk")
_FAKE_CITIES = ("Springfield", "Riverton", "Fairview", "Lakeside", "Greenville", "Milford", "Oakdale")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*|\S")


class SurrogateMap:
    def __init__(self, text: str):
        seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).digest(), "big")
        self._rng = random.Random(seed)
        self._seen: dict[tuple[str, str], str] = {}
        self._lex = lexicon.load()

    def value(self, span: PhiSpan, original: str) -> str:
        if span.kind == "NAME":
            return self._name(original)
        key = (span.kind, original.strip().lower())
        if key not in self._seen:
            self._seen[key] = self._fake(span.kind, original)
        return self._seen[key]

    def _name(self, original: str) -> str:
        tokens = _TOKEN.findall(original)
        words = [t for t in tokens if t[0].isalpha()]
        out = []
        for position, token in enumerate(tokens):
            if not token[0].isalpha():
                continue
            if len(token) == 1:
                out.append(self._rng.choice("ABCDEFGHJKLMNPRSTW") + ".")
                continue
            key = ("NAME", token.lower())
            if key not in self._seen:
                as_first = token.lower() in self._lex.first_names and (position == 0 or len(words) == 1)
                pool = _FAKE_FIRST if as_first else _FAKE_LAST
                self._seen[key] = self._rng.choice(pool)
            fake = self._seen[key]
            out.append(fake.lower() if token.islower() else fake.upper() if token.isupper() and len(token) > 1
                       else fake)
        return " ".join(out) or "Alex"

    def _fake(self, kind: str, original: str) -> str:
        r = self._rng
        if kind == "DATE":
            return f"{r.randint(1, 12):02d}/{r.randint(1, 28):02d}/{r.randint(1990, 2020)}"
        if kind == "PHONE":
            return f"555-01{r.randint(0, 99):02d}"
        if kind == "EMAIL":
            return f"person{r.randint(100, 999)}@example.org"
        if kind == "URL":
            return f"https://example.org/{r.randint(100, 999)}"
        if kind == "IP":
            return f"192.0.2.{r.randint(1, 254)}"
        if kind == "SSN":
            return f"900-{r.randint(10, 99)}-{r.randint(1000, 9999)}"
        if kind == "AGE":
            return "90+"
        if kind == "ADDRESS":
            return f"{r.randint(10, 999)} Main Street" if any(ch.isalpha() for ch in original) \
                else f"{r.randint(10000, 99999)}"
        if kind == "LOCATION":
            return r.choice(_FAKE_CITIES)
        # MRN, ID: keep the shape, change every digit and letter
        return "".join(str(r.randint(0, 9)) if ch.isdigit() else r.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
                       if ch.isalpha() else ch for ch in original)
