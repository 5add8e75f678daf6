"""Street addresses, unit numbers, PO boxes, military addresses and ZIP codes."""
from __future__ import annotations

import re
from typing import Iterator

from ..adapter import PhiDetector
from ..spans import PhiSpan

_SUFFIX = (r"(?:street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|way|terrace|ter|"
           r"circle|cir|parkway|pkwy|highway|hwy|route|rte|square|sq|trail|trl|loop|alley|aly|row|crescent|cres|"
           r"close|plaza|plz|pike|path|run|ridge|hill|hills|heights|hts|point|pt|park|grove|gardens|green|walk|"
           r"view|crossing|xing|commons|center|centre|expressway|expy|freeway|fwy|turnpike|tpke|causeway|mall|"
           r"landing|bend|cove|creek|glen|harbor|harbour|manor|meadows?|mews|orchard|pass|port|station|valley|"
           r"vista|villas?|wharf|estates?|junction|jct|spur|track|bypass|gate|gateway)")
_UNIT = (r"(?:\s*,?\s*(?:(?:apt|apartment|suite|ste|unit|no|bldg|building|fl|floor|rm|room)\b|#)\.?\s*#?\s*"
         r"(?=[A-Z\-]*\d)[A-Z0-9\-]{1,6})?")
_STREET = re.compile(
    r"(?<![\w\-])\d{1,6}[A-Z]?(?:-\d{1,5})?\s+(?:[NSEW]\.?\s+|North\s+|South\s+|East\s+|West\s+)?"
    r"(?:[A-Z0-9][\w'’.\-]*\s+){0,4}(?i:" + _SUFFIX + r")\b\.?(?i:" + _UNIT + ")")
# lower-case journals: "i live at 12 oak street"
_STREET_LOWER = re.compile(r"(?<![\w\-])\d{1,6}\s+(?:[a-z]+\s+){1,2}(?:street|avenue|road|drive|lane|boulevard|"
                           r"court|way|place|circle|terrace|parkway)\b" + _UNIT, re.IGNORECASE)
# "Mellemvej 32", "Puruntie 82", "Rákóczi út 13", "Calle Mayor 5", "Via Roma 3", "Rue de la Paix 12"
_EUROPEAN = re.compile(
    r"\b(?:(?:calle|via|viale|rue|avenida|av\.|rua|plaza|ulica|ul\.|pod|na|u|carrer|camino|paseo|strada|corso|"
    r"piazza|largo|place|chemin|boulevard)\s+(?:(?:de|del|la|las|los|da|do|di|della|des|du|le)\s+)?"
    r"[A-ZÀ-Ž][\w'’\-]*(?:\s+[A-ZÀ-Ž][\w'’\-]*){0,2}"
    r"|[A-ZÀ-Ž][\w'’\-]*(?:vej|gade|straße|strasse|str\.|weg|gasse|katu|tie|kuja|polku|väg|vägen|gatan|gata|"
    r"laan|straat|dreef|plein|steeg|utca|út|allee|ring|damm|ufer|platz|markt|torget|veien|vegen|gränd|stig|"
    r"gränd|tanya|körút|sor|köz)(?:\s+\d+\.?)?)"
    r"\s+\d{1,5}[A-Za-z]?\b\.?" + _UNIT)
_UNIT_ALONE = re.compile(r"\b(?:apt|apartment|suite|ste|unit)\.?\s*#?\s*[A-Z0-9\-]*\d[A-Z0-9\-]*\b", re.IGNORECASE)
_PO_BOX = re.compile(r"\b(?:p\.?\s?o\.?\s*box|post\s+office\s+box|box)\s+\d{1,6}\b", re.IGNORECASE)
_MILITARY = re.compile(r"\b(?:(?:PSC|CMR|Unit)\s+\d{1,5},?\s*)?(?:Box\s+\d{1,5}\s*,?\s*)?\b(?:APO|FPO|DPO)\s+(?:AA|AE|AP)"
                       r"(?:\s+\d{5})?\b|\bUS(?:NS|NV|S|CGC)\s+[A-Z][a-z]+\b")
_ZIP_CONTEXT = re.compile(r"(?:\b[A-Z]{2}|,|\bzip(?:\s*code)?|\bpostal\s*code|\bpost\s*code|[a-z]\n)\s*:?\s*$",
                          re.IGNORECASE)
_ZIP = re.compile(r"(?<![\w\-.,$#/])\d{5}(?:-\d{4})?(?![\w\-]|[.,]\d|\s*(?:mg|mcg|ml|units|steps|calories|kcal|"
                  r"dollars|usd|people|miles|km|ft|feet|lbs|kg|words|cells|copies|/))", re.IGNORECASE)
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")


class AddressDetector(PhiDetector):
    name = "address"
    kind = "ADDRESS"

    def find(self, text: str) -> Iterator[PhiSpan]:
        for pattern, regex, score in (("street", _STREET, 0.9), ("street-lowercase", _STREET_LOWER, 0.8),
                                      ("european-street", _EUROPEAN, 0.8),
                                      ("unit", _UNIT_ALONE, 0.8), ("po-box", _PO_BOX, 0.9),
                                      ("military", _MILITARY, 0.9), ("uk-postcode", _UK_POSTCODE, 0.7)):
            for m in regex.finditer(text):
                end = m.end()
                while end > m.start() and text[end - 1] in " ,":
                    end -= 1
                yield self.span(m.start(), end, pattern, score)
        for m in _ZIP.finditer(text):
            context = bool(_ZIP_CONTEXT.search(text[max(0, m.start() - 20):m.start()]))
            yield self.span(m.start(), m.end(), "zip-context" if context else "zip", 0.8 if context else 0.5)
