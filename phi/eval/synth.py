"""Synthetic gold files: clinical notes and patient journals with every PHI kind, seeded.

Sentences are templates with slots such as ``{P.full}`` (the patient), ``{R.first}`` (a relative),
``{C.last}`` (a clinician), ``{DATE}``, ``{PHONE}``; filling a slot records its gold span. Templates,
name locales and city lists are split into a development half (used while tuning the detectors)
and a held-out half (only for reporting), so the held-out figures are not tuned to the generator.
"""
from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path

from faker import Faker

from . import gold
from .synth_templates import CLINICAL, JOURNAL

# names come from Faker locales; held-out locales are never looked at while tuning
_LOCALES = {
    "dev": ("en_US", "en_GB", "es_ES", "de_DE", "it_IT", "en_IN"),
    "heldout": ("en_US", "fr_FR", "pl_PL", "nl_NL", "pt_BR", "sv_SE", "hu_HU", "tr_TR"),
    "final": ("en_US", "en_AU", "es_MX", "cs_CZ", "fi_FI", "da_DK", "ro_RO", "en_NZ"),
}
_CITIES = {
    "dev": ("Boston", "Chicago", "Denver", "Seattle", "Atlanta", "Phoenix", "Portland", "Nashville",
            "Toronto", "London", "Dublin", "Madrid"),
    "heldout": ("Houston", "Pittsburgh", "Sacramento", "Albuquerque", "Cleveland", "Omaha", "Tucson",
                "Vancouver", "Manchester", "Lyon", "Krakow", "Rotterdam"),
    "final": ("Minneapolis", "Baltimore", "Milwaukee", "Tampa", "Raleigh", "Spokane", "Fresno", "Ottawa",
              "Leeds", "Glasgow", "Prague", "Helsinki"),
}
_STATES = (("Massachusetts", "MA"), ("Illinois", "IL"), ("Colorado", "CO"), ("Washington", "WA"),
           ("Georgia", "GA"), ("Arizona", "AZ"), ("Oregon", "OR"), ("Tennessee", "TN"), ("Texas", "TX"),
           ("Ohio", "OH"), ("New York", "NY"), ("California", "CA"), ("Pennsylvania", "PA"),
           ("New Mexico", "NM"), ("Nebraska", "NE"), ("Florida", "FL"))
_COUNTRIES = ("Mexico", "Canada", "Ireland", "Poland", "India", "Brazil", "Germany", "Vietnam", "Nigeria",
              "the Philippines", "Italy", "Portugal", "Japan", "Kenya")
_HOSPITAL_FORMS = ("{last} Memorial Hospital", "St. {first}'s Medical Center", "{city} General Hospital",
                   "Mercy {city} Clinic", "{last} Behavioral Health Center", "{city} Psychiatric Hospital",
                   "Mount {last} Hospital", "{last} Family Clinic", "{city} Children's Hospital")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_SLOT = re.compile(r"\{([A-Za-z]+)(?:\.([a-z_0-9]+))?\}")


class _Doc:
    """One document being written: the text so far and its gold spans."""

    def __init__(self, rng: random.Random, fakers: list[Faker], split: str):
        self.rng, self.fakers, self.split = rng, fakers, split
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[tuple[int, int, str]] = []
        self.people = {role: self._person() for role in "PRCFS"}

    def _person(self) -> dict[str, str]:
        faker = self.rng.choice(self.fakers)
        return {"first": faker.first_name(), "last": faker.last_name()}

    def add(self, text: str, kind: str | None = None) -> None:
        if kind and text:
            self.spans.append((self.length, self.length + len(text), kind))
        self.parts.append(text)
        self.length += len(text)

    def sentence(self, template: str) -> None:
        cursor = 0
        for m in _SLOT.finditer(template):
            self.add(template[cursor:m.start()])
            value, kind = self.fill(m.group(1), m.group(2) or "")
            self.add(value.strip(), kind)  # some Faker addresses end with a space
            cursor = m.end()
        self.add(template[cursor:])

    def fill(self, slot: str, variant: str) -> tuple[str, str]:
        r = self.rng
        if slot in self.people:
            person = self.people[slot]
            return _name(person, variant, r), "NAME"
        maker = getattr(self, "_" + slot.lower())
        return maker(variant)

    # one maker per slot kind ------------------------------------------------------------------------
    def _date(self, variant: str) -> tuple[str, str]:
        r = self.rng
        y, mo, d = r.randint(1998, 2025), r.randint(1, 12), r.randint(1, 28)
        month = _MONTHS[mo - 1]
        forms = [f"{mo}/{d}/{y}", f"{mo:02d}/{d:02d}/{y}", f"{mo}/{d}", f"{y}-{mo:02d}-{d:02d}",
                 f"{month} {d}", f"{month} {d}, {y}", f"{month} {d}{_ordinal(d)}", f"{d} {month} {y}",
                 f"{d}-{month[:3]}-{y}", f"{month[:3]} {d}", f"{month} {y}", f"{mo}/{d}/{str(y)[2:]}",
                 f"the {d}{_ordinal(d)}", f"{d}{_ordinal(d)} of {month}", f"Christmas {y}", f"{mo}-{d}-{y}"]
        if variant == "full":
            forms = forms[:2] + [forms[3], forms[5], forms[7], forms[8]]
        if variant == "year":
            return str(y), "DATE"
        if variant == "month":
            return month, "DATE"
        if variant == "holiday":
            return r.choice(["Christmas", "Thanksgiving", "Easter", "New Year's Eve", "Halloween"]), "DATE"
        if variant == "lower":
            return r.choice([f"{month.lower()} {d}", f"{mo}/{d}", f"{month.lower()} {d}{_ordinal(d)}"]), "DATE"
        value = r.choice(forms)
        return value, "DATE"

    def _phone(self, variant: str) -> tuple[str, str]:
        r = self.rng
        a, b, c = r.randint(201, 989), r.randint(200, 999), r.randint(0, 9999)
        forms = [f"({a}) {b}-{c:04d}", f"{a}-{b}-{c:04d}", f"{a}.{b}.{c:04d}", f"{a} {b} {c:04d}",
                 f"+1 {a} {b} {c:04d}", f"1-{a}-{b}-{c:04d}", f"{a}-{b}-{c:04d} ext. {r.randint(10, 9999)}",
                 f"+44 20 {r.randint(1000, 9999)} {r.randint(1000, 9999)}", f"{b}-{c:04d}",
                 f"+49 30 {r.randint(100000, 9999999)}", f"{a}{b}{c:04d}"]
        return r.choice(forms), "PHONE"

    def _email(self, variant: str) -> tuple[str, str]:
        p = self.people["P"]
        user = self.rng.choice([f"{p['first']}.{p['last']}", f"{p['first'][0]}{p['last']}{self.rng.randint(1, 99)}",
                                f"{p['last']}_{self.rng.randint(1970, 2005)}"])
        user = re.sub(r"[^A-Za-z0-9._]", "", user).lower() or "someone"
        domain = self.rng.choice(['gmail.com', 'yahoo.com', 'outlook.com', 'icloud.com', 'proton.me'])
        return f"{user}@{domain}", "EMAIL"

    def _url(self, variant: str) -> tuple[str, str]:
        p = self.people["P"]
        handle = re.sub(r"[^a-z0-9]", "", (p["first"] + p["last"]).lower()) or "page"
        return self.rng.choice([f"https://www.facebook.com/{handle}", f"instagram.com/{handle}",
                                f"https://mychart.example-health.org/patient/{self.rng.randint(1000, 99999)}",
                                f"www.{handle}.com",
                                f"http://blog.{handle}.net/posts/{self.rng.randint(1, 400)}"]), "URL"

    def _ip(self, variant: str) -> tuple[str, str]:
        r = self.rng
        return f"{r.randint(11, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}", "IP"

    def _ssn(self, variant: str) -> tuple[str, str]:
        r = self.rng
        a, b, c = r.randint(100, 899), r.randint(10, 99), r.randint(1000, 9999)
        if variant == "last4":
            return f"{c}", "SSN"
        return r.choice([f"{a}-{b}-{c}", f"{a}{b}{c}", f"{a} {b} {c}"]), "SSN"

    def _mrn(self, variant: str) -> tuple[str, str]:
        r = self.rng
        return r.choice([str(r.randint(100000, 99999999)), f"MR{r.randint(100000, 9999999)}",
                         f"{r.randint(100, 999)}-{r.randint(10, 99)}-{r.randint(10, 99)}"]), "MRN"

    def _id(self, variant: str) -> tuple[str, str]:
        r = self.rng
        return r.choice([f"{r.choice('ABCDEFGHJKLMNPRSTWXYZ')}{r.randint(1000000, 99999999)}",
                         f"{r.randint(100, 999)}{r.choice('ABCXYZ')}{r.randint(10000, 99999)}",
                         f"W{r.randint(100000000, 999999999)}", f"{r.randint(10**11, 10**12 - 1)}",
                         self.fakers[0].credit_card_number(), f"DL-{r.randint(1000000, 9999999)}"]), "ID"

    def _street(self, variant: str) -> tuple[str, str]:
        faker = self.rng.choice(self.fakers[:1] + self.fakers)
        if variant == "lower":
            number = self.rng.randint(2, 9999)
            return f"{number} {self.rng.choice(['oak', 'maple', 'pine', 'elm', 'cedar'])} street", "ADDRESS"
        return faker.street_address(), "ADDRESS"

    def _zip(self, variant: str) -> tuple[str, str]:
        return f"{self.rng.randint(1001, 99950):05d}", "ADDRESS"

    def _city(self, variant: str) -> tuple[str, str]:
        city = self.rng.choice(_CITIES[self.split])
        return (city.lower() if variant == "lower" else city), "LOCATION"

    def _state(self, variant: str) -> tuple[str, str]:
        name, abbr = self.rng.choice(_STATES)
        return (abbr if variant == "abbr" else name), "LOCATION"

    def _country(self, variant: str) -> tuple[str, str]:
        return self.rng.choice(_COUNTRIES).replace("the ", ""), "LOCATION"

    def _hospital(self, variant: str) -> tuple[str, str]:
        p = self.people["S"]
        form = self.rng.choice(_HOSPITAL_FORMS)
        return form.format(last=p["last"], first=p["first"], city=self.rng.choice(_CITIES[self.split])), "LOCATION"

    def _age(self, variant: str) -> tuple[str, str]:
        return str(self.rng.randint(90, 104)), "AGE"


def _name(person: dict[str, str], variant: str, r: random.Random) -> str:
    first, last = person["first"], person["last"]
    if variant == "first":
        return first
    if variant == "last":
        return last
    if variant == "lower":
        return first.lower()
    if variant == "initials":
        return f"{first[0]}.{last[0]}."
    if variant == "initial_last":
        return f"{first[0]}. {last}"
    if variant == "caps":
        return f"{last.upper()}, {first.upper()}"
    return f"{first} {last}"


def _ordinal(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def seeded_fakers(rng: random.Random, locales: Sequence[str]) -> list[Faker]:
    """One Faker per locale, each seeded from ``rng``: the same seed gives the same documents."""
    fakers = []
    for locale in locales:
        faker = Faker(locale)
        faker.seed_instance(rng.randint(0, 10**9))
        fakers.append(faker)
    return fakers


def generate(genre: str, n: int, split: str, seed: int = 5) -> list[gold.GoldDoc]:
    """``n`` documents of ``genre`` ("clinical" or "journal") from the ``split`` part of the templates:
    "dev" (tuned on), "heldout" (scored while tuning), "final" (written after tuning, scored once)."""
    rng = random.Random(f"{genre}-{split}-{seed}")
    fakers = seeded_fakers(rng, _LOCALES[split])
    templates = (CLINICAL if genre == "clinical" else JOURNAL)[split]
    docs = []
    for i in range(n):
        doc = _Doc(rng, fakers, split)
        lines = rng.sample(templates, k=min(len(templates), rng.randint(4, 9)))
        for template in lines:
            doc.sentence(template)
            doc.add("\n" if genre == "clinical" else " ")
        docs.append(gold.GoldDoc(f"{genre[0]}{split[0]}{i:04d}", "".join(doc.parts).rstrip(), tuple(doc.spans)))
    return docs


def write_sets(outdir: str | Path, n: int, split: str) -> list[Path]:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for genre in ("clinical", "journal"):
        path = out / f"{genre}_{split}.jsonl"
        gold.write(path, generate(genre, n, split))
        paths.append(path)
    return paths
