"""Synthetic ICU nursing notes: shorthand, vitals, vent settings, drips, misspellings, notes all in
capitals or all in lower case, with planted identifiers of every kind real notes hide (hospital
short names after "to"/"from", wards named after people, two-digit years, relatives after kin
words in any case, lower-case signatures, phones with loose separators, short dates after "on").

``python -m phi generate OUTDIR --family nursing --split {dev,heldout}``. The two splits share no
template, no vocabulary list (drugs, misspellings, hospital and ward names) and no name locale:
tune on "dev" only; "heldout" is scored and reported, never looked at for fixes.
"""
from __future__ import annotations

import random

from . import gold
from .synth import _Doc, seeded_fakers

SPLITS = ("dev", "heldout")
_LOCALES = {"dev": ("en_US", "en_GB", "en_IE"), "heldout": ("en_US", "en_CA", "en_AU")}

# vocabulary seeds, disjoint between the splits
_VOCAB = {
    "dev": {
        "drug": ["propofol", "levo", "vanco", "lopressor", "neo", "amio", "kcl", "lasix", "fentanyl", "heparin",
                 "zosyn", "protonix", "insulin", "dilaudid", "precedex"],
        "misspelt": ["aggitation", "moniter", "responce", "secretons", "recieved", "familly", "continous",
                     "medicaton", "resp distres", "sedaton"],
        "hosp": ["MGH", "BI", "NEBH", "BWH", "CHA", "Lahey", "MWMC"],
        "ward": ["Finard", "Farr", "Reisman", "Feldberg", "Stoneman"],
        "device": ["Foley", "A-line", "aline", "Swan", "Hickman", "trach", "Bair hugger", "OGT", "PICC", "R IJ TLC"],
        "chart": ["carevue", "careview", "flowsheet", "MAR", "kardex"],
    },
    "heldout": {
        "drug": ["dobutamine", "captopril", "nipride", "versed", "ativan", "haldol", "cefepime", "flagyl",
                 "solumedrol", "lovenox", "coumadin", "dopamine", "nitro", "cardene", "kayexalate"],
        "misspelt": ["restlesness", "sedatoin", "breatheing", "narcotis", "sputtum", "temprature", "assesment",
                     "tollerated", "diarhea", "hemodynamicaly"],
        "hosp": ["UMass", "CCH", "MAH", "SEMC", "NWH", "Caritas", "BMC"],
        "ward": ["Deaconess", "Kennedy", "Blackfan", "Shapiro", "Wolinsky"],
        "device": ["Foley", "art line", "Cordis", "Hickman", "Dobhoff", "SCDs", "PEG", "Quinton", "chest tube", "ETT"],
        "chart": ["flowsheet", "metavision", "careview", "MAR"],
    },
}

_TEMPLATES = {
    "dev": [
        "NPN {TIME}-{TIME}",
        "Neuro: sedated on {drug} gtt, MAE, PERL 3mm brisk. RASS -2. {misspelt} noted w/ cares.",
        "CV: NSR 80s-90s, no VEA. SBP 100-120 on {drug} gtt, weaned to off @ {TIME}. K 3.6 repleted w/ 40meq kcl.",
        "Resp: CPAP 5/5 FiO2 40%, Vt 450s, RR 18. ABG 7.41-38-92. LS coarse, sxn'd for thick tan secretions.",
        "Vent changed to A/C 500x14/5/50% at {TIME}, PS 10/5/40% tolerated. Sats 95-98%.",
        "GI: abd soft, +BS, OGT to LCS. TF at goal. {drug} and {drug} given per MAR.",
        "GU: {device} draining clear yellow urine 30-60cc/hr. Lasix 20mg IV w/ good responce.",
        "ID: Tmax 101.2, pan cx'd. On {drug} and {drug}. WBC 14.",
        "Access: {device} and {device} intact, DSD changed. See {chart} for details.",
        "Social: {KIN} {R.first} called at {TIME}, updated on plan. {KIN} {F.first} to visit tomorrow.",
        "{KINCAPS} {RUP} at bedside, asking appropriate questions.",
        "Family: {kin}, {R.lower}, aware of plan; can be reached at {PHONE.loose}.",
        "Pt transferred to {HOSP} from {HOSP} on {DATE.short} for cath.",
        "Pt came from {WARD} this am, was on {WARD} prior.",
        "PMH: HTN, DM2, MI {SHORTYEAR}, CABG {SHORTYEAR}, CVA {SHORTYEAR}, s/p appy.",
        "Hx of ETOH abuse, sober since {SHORTYEAR}; lives w/ {kin} {R.lower} in {CITY}.",
        "Pt seen by Dr. {C.last} from renal; plan CVVH tonight. Dr {S.last} aware.",
        "{SIGN}",
        "Plan: wean {drug} as tol, SBT in am, cont {drug}, RISS, check lytes @ {TIME}. Pt is {misspelt}.",
        "Skin: coccyx stage 2, duoderm intact. Bair hugger on for temp 35.1. HOH, speaks loudly.",
        "MRN {MRN}. Admit date {DATE}. Attending: {C.full}.",
        "Pt's PCP Dr. {S.full} called, phone {PHONE.loose}.",
        "Code status: full code, discussed with {kin} {F.first} and HCP {R.full} on {DATE.short}.",
        "NS 250cc bolus x2 for MAP < 60 with good effect; UO 40cc/hr after.",
    ],
    "heldout": [
        "Nursing Progress Note {TIME}-{TIME}",
        "NEURO: Alert, follows commands, {misspelt} overnight, given {drug} with effect. Moves all ext.",
        "CARDIAC: ST 100s, occ PVCs. BP labile, {drug} titrated 2-5 mcg/kg/min. CVP 8-12.",
        "PULM: on PSV 12/5, FiO2 .4, TV 400-500, RR 20s. ABG 7.33/48/70 at {TIME}. Weaned to 40%.",
        "RESP: trach collar 50%, sats 92-95, suctioned q2h small amts.",
        "GI/GU: {device} in place, UO 20-40cc/hr, lytes repleted per sliding scale. {drug} started.",
        "LINES: {device} R fem, {device} L subclavian, sites clean.",
        "ID: afebrile, on {drug}; cultures from {DATE.short} neg to date.",
        "DISPO: to {HOSP} when bed available; was at {HOSP} in {SHORTYEAR} for CHF.",
        "Transfer to {WARD} planned once off {drug}.",
        "Hx: NSTEMI '{YY}, AVR '{YY}, DVT {SHORTYEAR} on coumadin.",
        "FAMILY: {KINCAPS}-{RUP} IN TO VISIT, UPDATED BY MD.",
        "{kin} {R.lower} called twice, would like call back at {PHONE.loose}.",
        "Spoke with {KIN} {F.first} {F.last} ({kin}), updated on condition.",
        "Seen by Dr {C.last}; pt's {kin} {R.first} present.",
        "{SIGN}",
        "Pt is {misspelt}, redirectable. Restraints cont for pt safety. See {chart}.",
        "LABS: Hct 26 -> 1u PRBC given, K 3.2 -> 40 KCL, Mg 1.6 -> 2g MgSO4.",
        "Pt from {HOSP} ED, MR# {MRN}, DOB {DATE.full}.",
        "Plan to d/c {device} on {DATE.short}, cont {drug}.",
    ],
}

_KIN_WORDS = ("son", "daughter", "husband", "wife", "sister", "brother", "mother", "niece")
_CREDENTIALS = ("rn", "rrt", "RN", "md", "np")


class _NursingDoc(_Doc):
    vocab: dict[str, list[str]] = {}

    def fill(self, slot: str, variant: str) -> tuple[str, str]:
        word = slot.lower()
        if word in ("drug", "misspelt", "device", "chart"):
            return self.rng.choice(self.vocab[word]), ""
        if slot == "RUP":
            return self.people["R"]["first"].upper(), "NAME"
        return super().fill(slot, variant)

    def _time(self, variant: str) -> tuple[str, str]:
        return self.rng.choice(["0700", "1900", "2000", "0300", "1500", "2300", "1100"]), ""

    def _kin(self, variant: str) -> tuple[str, str]:
        return self.rng.choice(_KIN_WORDS), ""

    def _kincaps(self, variant: str) -> tuple[str, str]:
        return self.rng.choice(_KIN_WORDS).upper(), ""

    def _hosp(self, variant: str) -> tuple[str, str]:
        return self.rng.choice(self.vocab["hosp"]), "LOCATION"

    def _ward(self, variant: str) -> tuple[str, str]:
        return f"{self.rng.choice(self.vocab['ward'])} {self.rng.randint(2, 12)}", "LOCATION"

    def _shortyear(self, variant: str) -> tuple[str, str]:
        yy = self.rng.randint(70, 99) if self.rng.random() < 0.7 else self.rng.randint(0, 19)
        return self.rng.choice([f"'{yy:02d}", f"{yy:02d}"]), "DATE"

    def _yy(self, variant: str) -> tuple[str, str]:
        return f"{self.rng.randint(70, 99)}", "DATE"

    def _date(self, variant: str) -> tuple[str, str]:
        if variant == "short":
            return f"{self.rng.randint(1, 12)}/{self.rng.randint(11, 28)}", "DATE"
        return super()._date(variant)

    def _phone(self, variant: str) -> tuple[str, str]:
        if variant != "loose":
            return super()._phone(variant)
        r = self.rng
        a, b, c = r.randint(201, 989), r.randint(200, 999), r.randint(0, 9999)
        return r.choice([f"{a}/{b}/{c:04d}", f"{a}- {b}- {c:04d}", f"({a}){b}- {c:04d}", f"{a} {b}-{c:04d}",
                         f"{a}-{b}-{c:04d}"]), "PHONE"

    def sign(self) -> None:
        c = self.people["C"]
        first, last = c["first"], c["last"]
        form = self.rng.choice([f"{first[0].lower()}. {last.lower()}", f"{first[0]}. {last}", f"{first} {last}",
                                f"{first.lower()} {last.lower()}"])
        self.add("-- " if self.rng.random() < 0.5 else "")
        self.add(form, "NAME")
        self.add(f"{self.rng.choice(['', ','])} {self.rng.choice(_CREDENTIALS)}")


def generate(n: int, split: str, seed: int = 7, lines: tuple[int, int] = (8, 16)) -> list[gold.GoldDoc]:
    """``n`` notes from the ``split`` templates, each of ``lines`` sentences (drawn with repeats past
    the number of templates: long notes repeat shorthand, as real ones do)."""
    rng = random.Random(f"nursing-{split}-{seed}")
    fakers = seeded_fakers(rng, _LOCALES[split])
    templates = _TEMPLATES[split]
    docs = []
    for i in range(n):
        doc = _NursingDoc(rng, fakers, split)
        doc.vocab = _VOCAB[split]
        k = rng.randint(*lines)
        chosen = rng.sample(templates, k=min(len(templates), k)) + rng.choices(templates, k=max(0, k - len(templates)))
        for template in chosen:
            if template == "{SIGN}":
                doc.sign()
            else:
                doc.sentence(template)
            doc.add("\n")
        text = "".join(doc.parts).rstrip()
        style = rng.random()
        changed = text.upper() if style < 0.2 else text.lower() if style < 0.4 else text
        if len(changed) == len(text):  # a case change that keeps offsets (no ß)
            text = changed
        docs.append(gold.GoldDoc(f"n{split[0]}{i:04d}", text, tuple(doc.spans)))
    return docs
