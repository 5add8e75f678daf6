"""Street addresses, unit numbers, PO boxes, military addresses and postal codes.

Street shapes covered: "12 Oak Street, Apt 4" (number first, USPS suffixes), "Flat 3 / Chandler
Lake" (unit first), "Via Roma, 12" / "rue de la Paix 5" / "ul. Kwiatowa 12/3" (keyword first),
"Hauptstraße 7" / "Storgatan 3" / "Petőfi utca 12." (suffix glued or after the name),
"12, rue Dupont" (French), "Atatürk Caddesi No: 5" (Turkish), Indian "H.No. 33, Puri Chowk".
"""
from __future__ import annotations

import re
from functools import lru_cache

from .. import anchors, lexicon
from ..context import label_before
from .base import Pattern, PatternDetector, holds, holds_near_digits

# USPS street suffixes (and their abbreviations) plus common Indian and British ones
_SUFFIX = (r"(?:street|streets|st|avenue|ave|av|road|roads|rd|boulevard|blvd|lane|ln|drive|drives|dr|court|courts|ct|"
           r"place|pl|way|ways|terrace|ter|circle|circles|cir|parkway|parkways|pkwy|highway|hwy|route|rte|square|"
           r"squares|sq|trail|trl|loop|alley|aly|row|crescent|cres|close|plaza|plz|pike|path|run|ridge|ridges|hill|"
           r"hills|heights|hts|point|points|pt|park|parks|grove|groves|garden|gardens|green|greens|walk|walks|view|"
           r"views|crossing|xing|crossroad|commons?|center|centers|centre|expressway|expy|freeway|fwy|turnpike|tpke|"
           r"causeway|mall|landing|bend|cove|coves|creek|glen|glens|harbor|harbors|harbour|manor|manors|meadows?|"
           r"mews|orchard|pass|passage|port|ports|station|valley|valleys|vista|villas?|village|villages|ville|wharf|"
           r"estates?|junctions?|jct|spurs?|track|bypass|gate|gateway|branch|bridge|brooks?|burgs?|camp|canyon|cape|"
           r"cliffs?|club|corners?|course|curve|dale|dam|divide|extensions?|falls?|ferry|fields?|flats?|fords?|forest|"
           r"forges?|forks?|fort|haven|hollow|inlet|islands?|isle|keys?|knolls?|lakes?|land|lights?|loaf|locks?|lodge|"
           r"mills?|mission|motorway|mount|mountains?|neck|oval|overpass|pines?|plains?|prairie|radial|ramp|ranch|"
           r"rapids?|rest|river|shoals?|shores?|skyway|springs?|stravenue|stream|summit|throughway|trace|trafficway|"
           r"trailer|tunnel|underpass|unions?|viaduct|wall|wells?|nagar|chowk|ganj|zila|marg|colony|lines)")
_UNIT_WORD = (r"(?:apt|apartment|suite|ste|unit|flat|studio|piso|puerta|appartamento|piano|interno|scala|bloco|apto|"
              r"lgh|étage|etage|mieszkanie|lok|daire|kat|bus|bte|no|nr|bl|sc|ap|et|edif|depto|interior|int|bldg|building|fl|"
              r"floor|rm|room|box)")
_UNIT = r"(?:[ \t]*,?[ \t]*(?i:" + _UNIT_WORD + r"\b|#)\.?[ \t]*#?[ \t]*(?=[A-Za-z\-]*\d)[A-Za-z0-9\-]{1,6})*"
_NUMBER = r"\d{1,6}[A-Za-z]?(?:[\-/]\d{1,5}[A-Za-z]?)?"
_NAME = r"(?=[^\W_])(?![a-zß-öø-ÿ])[\w'’.\-]+"  # starts with a capital (any script) or a digit
_GAP = r"[ \t]+"
_BREAK = r"(?:,?[ \t]*\n[ \t]*|,?[ \t]+)"  # one line break allowed inside a street block

_STREET = re.compile(r"(?<![\w\-/])" + _NUMBER + r",?" + _BREAK + r"(?:[NSEW]\.?" + _GAP + r")?(?:" + _NAME + _GAP
                     + r"){1,4}(?=[A-Z])(?i:" + _SUFFIX + r")\b\.?" + _UNIT)
# lower-case journals: "i live at 12 oak street"
_STREET_LOWER = re.compile(r"(?<![\w\-])\d{1,6}[ \t]+(?:[a-z]+[ \t]+){1,2}(?:street|avenue|road|drive|lane|boulevard|"
                           r"court|way|place|circle|terrace|parkway)\b" + _UNIT)
_UNIT_FIRST = re.compile(r"\b(?:(?i:flat|studio|apt\.?|apartment|unit|suite)[ \t]+\w{1,5}|H\.?[ \t]?No\.?[ \t]*"
                         + _NUMBER + r")" + r",?[ \t]*\n?[ \t]*(?:" + _NAME + _GAP + r"){1,3}(?i:" + _SUFFIX + r")\b")
_KEYWORD = (r"(?:calle|carrer|camino|paseo|pasaje|plaza|avenida|av\.|alameda|ronda|glorieta|vial|cañada|urbanización|"
            r"callejón|carrera|rambla|travesía|cuesta|acceso|via|viale|vicolo|strada|stretto|rotonda|borgo|canale|"
            r"contrada|corso|piazza|piazzale|largo|rue|avenue|boulevard|bd|chemin|impasse|allée|quai|route|cours|"
            r"place|rua|travessa|rodovia|praça|estrada|ladeira|vila|viela|vereda|esplanada|ul\.|ulica|al\.|aleja|"
            r"fazenda|aeroporto|residencial|área|núcleo|jardim|campo|conjunto|setor|quadra|sítio|chácara|"
            r"colônia|condomínio|distrito|lagoa|loteamento|morro|parque|passarela|pátio|praia|recanto|trecho|"
            r"trevo|vale|viaduto|estação|"
            r"bulevardul|drumul|strada|calea|aleea|intrarea|splaiul|șoseaua|soseaua|piața|piata|"
            r"continuación|circuito|privada|cerrada|retorno|periférico|diagonal|prolongación|ampliación|"
            r"corredor|peatonal|"
            r"pl\.|plac|os\.|osiedle)")
_KEYWORD_FIRST = re.compile(r"(?<![\w\-])(?i:" + _KEYWORD + r")[ \t]+(?:(?:de|del|de la|dos|das|do|da|di|della|"
                            r"degli|des|du|le|la|los|las)[ \t]+)?(?:" + _NAME + r"[ \t]+){0,3}" + _NAME
                            + r",?[ \t]+(?:(?:n[º°o]|nr)\.?[ \t]*)?" + _NUMBER + r"\b\.?" + _UNIT)
_NUMBER_KEYWORD = re.compile(r"(?<![\w\-/])" + _NUMBER + r",?[ \t]+(?i:" + _KEYWORD + r")[ \t]+(?:(?:de|du|des|la|le|"
                             r"d'|l')[ \t]*)*(?:" + _NAME + r"[ \t]*){1,3}")
_GLUED = (r"(?:straße|strasse|str\.|weg|gasse|platz|ring|allee|damm|ufer|markt|steig|pfad|"
          r"vej|gade|stræde|allé|torv|vænget|gatan|vägen|gränd|torget|stigen|backen|allén|veien|vegen|gata|"
          r"katu|tie|kuja|polku|raitti|"
          r"straat|laan|dreef|plein|singel|gracht|kade|pad|hof|dijk|steeg|baan|boulevard|"
          r"utca|út|útja|tér|köz|körút|sor|sétány|fasor|rakpart|dűlő|lejtő)")
# "Hauptstraße 7": a word followed by a number, kept when the word ends like a street name
_WORD_NUMBER = re.compile(r"(?<![\w\-])(?P<word>[^\W\d_][\w'’\-]*)[ \t]+" + _NUMBER + r"\b\.?" + _UNIT)
_GLUED_ENDINGS = tuple(_GLUED.strip("(?:)").replace("\\.", ".").split("|"))
_LEFT_WORDS = re.compile(r"(?:" + _NAME + r"[ \t\-]){1,3}$")
_TURKISH = re.compile(r"\b(?:" + _NAME + r"[ \t]+){1,3}(?:Sokak|Sokağı|Sk\.|Caddesi|Cad\.|Cd\.|Bulvarı|Blv\.|"
                      r"Mahallesi|Mah\.|Yolu)\b(?:[ \t]*(?:No|Nr)[:.]?[ \t]*" + _NUMBER + r")?")
_UNIT_ALONE = re.compile(r"\b(?i:apt|apartment|suite|ste|unit|flat)\.?\s*#?\s*[A-Z0-9\-]*\d[A-Z0-9\-]*\b",
                         re.IGNORECASE)
_PO_BOX = re.compile(r"\b(?:p\.?\s?o\.?\s*box|post\s+office\s+box|box)\s+\d{1,6}\b", re.IGNORECASE)
_MILITARY = re.compile(r"\b(?:(?:PSC|CMR|Unit)\s+\d{1,5},?\s*)?(?:Box\s+\d{1,5}\s*,?\s*)?\b(?:APO|FPO|DPO)\s+"
                       r"(?:AA|AE|AP)(?:\s+\d{5})?\b|\bUS(?:NS|NV|S|CGC)\s+[A-Z][a-z]+\b")
_ZIP_LABEL = re.compile(r"(?:\b[A-Z]{2}|,|\bzip(?:\s*code)?|\bpostal\s*code|\bpost\s*code|[a-z]\n)\s*:?\s*$",
                          re.IGNORECASE)
_ZIP = re.compile(r"(?<![\w\-.,$#/])\d{5}(?:-\d{4})?(?![\w\-]|[.,]\d|\s*(?:mg|mcg|ml|units|steps|calories|kcal|"
                  r"dollars|usd|people|miles|km|ft|feet|lbs|kg|words|cells|copies|/))", re.IGNORECASE)
# "lives at Joaquin Suarez 2906", "address: Allika 46": a street name with no suffix word, after
# a phrase that announces an address
_STREET_AFTER_CONTEXT = re.compile(r"\b(?i:address(?:\s+(?:is|on\s+file))?:?|lives?\s+(?:at|on)|living\s+at|"
                                   r"located\s+at|sent\s+to|mail(?:ed)?\s+to|side\s+of|meet\s+you\s+at|moved\s+to)"
                                   r"\s+(?P<v>(?:\d{1,6}\s+)?(?:" + _NAME + r"\s+){1,3}\d{1,5}[A-Za-z]?\b)")
_ADDRESS_WORDS = ("address", "live", "living", "located", "sent to", "mail", "side of", "meet you", "moved to")
_SHORT_POSTCODE = re.compile(r"\b(?i:zip(?:\s*code)?|postal\s*code|post\s*code|postcode)\s*[:#]?\s*"
                             r"(?P<v>\d{3,5}(?:-\d{3,4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d)\b")
# "5th and Pine", "corner of Main St and 3rd Ave"
_STREET_WORD = r"(?:\d{1,3}(?:st|nd|rd|th)|[A-Z][a-z]+)(?:\s+(?:St|Ave|Rd|Blvd|Street|Avenue|Road))?\.?"
_INTERSECTION = re.compile(r"(?:\b(?i:corner\s+of|intersection\s+of)\s+(?P<v>[^\n,;]{3,60}?\s+(?:and|&)\s+"
                           r"[A-Z0-9][\w'’\-]*(?:\s+[A-Z][\w'’\-]*){0,2})"
                           r"|\b(?P<w>\d{1,3}(?:st|nd|rd|th)(?:\s+(?:St|Ave|Street|Avenue))?\.?\s+(?:and|&)\s+"
                           + _STREET_WORD + r"))")
_HOUSE_NUMBER = re.compile(r"(?<![\w\-/.])\d{1,6}[ \t]+$")
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")

_WORD = re.compile(r"[^\W\d_]+\.?")
_KEYWORD_WORDS = frozenset(w.replace("\\", "") for w in _KEYWORD.strip("(?:)").split("|"))
_ADDRESS_WORDS = ("address", "live", "living", "located", "sent to", "mail", "side of", "meet you", "moved to")
_TRAILING = " ,\t\n"


@lru_cache(maxsize=8)
def _has_keyword_word(text: str) -> bool:
    """Some word of the lower-cased text (split at whitespace) is a street keyword."""
    return not _KEYWORD_WORDS.isdisjoint(anchors.lower(text).split())


def _may_have_number_keyword(text: str) -> bool:
    """"12 rue Dupont": the keyword stands between spaces, so it is a word of the text; on a plain
    ASCII text (where ignoring case is comparing in lower case) the pattern is skipped without one."""
    return not anchors.plain_ascii(text) or _has_keyword_word(text)


def _keyword_starts(text: str) -> tuple[int, ...]:
    """Where a street keyword (calle, rue, via, ul.) begins: keyword-first streets start there."""
    if not _has_keyword_word(text):
        return ()
    return tuple(m.start() for m in _WORD.finditer(text) if m.group().lower() in _KEYWORD_WORDS)


# how far a street grows to the left: part of the address, so part of its shape, not context
_HOUSE_NUMBER_REACH = 10  # a bare house number and its spaces
_STREET_NAME_REACH = 60   # up to three words of a street name


def _with_house_number(text: str, start: int, end: int) -> tuple[int, int]:
    """Start earlier when a bare house number stands right before a street: "4844 Søndergade 52"."""
    m = _HOUSE_NUMBER.search(text, max(0, start - _HOUSE_NUMBER_REACH), start)
    return (m.start() if m else start), end


def _glued_word(text: str, start: int, end: int) -> str:
    return text[start:end].split(None, 1)[0].lower()  # the match is "<word> <number>..."


def _ends_like_a_street(text: str, start: int, end: int) -> bool:
    """"Hauptstraße 7", "Petőfi utca 12": the word before the number ends like a street name, and
    is not an English word that merely does ("During 1971", "bring 2")."""
    word = _glued_word(text, start, end)
    if not word.endswith(_GLUED_ENDINGS):
        return False
    return word in _GLUED_ENDINGS or text[start].isupper() and lexicon.load().classify(word) == "unknown"


_GLUED_TAILS = frozenset(ending[-2:] for ending in _GLUED_ENDINGS)


def _may_end_like_a_street(text: str) -> bool:
    """Some word ends like a street name right before a number (spaces between): what every
    "Hauptstraße 7" holds; looked for at the digit runs of an ASCII text (its words' last two
    letters first), instead of scanning every word of the text for a street."""
    if not text.isascii():
        return True
    lower = anchors.lower(text)
    for digit in anchors.digit_starts(text):
        end = digit
        while end and lower[end - 1] in " \t":
            end -= 1
        if end < digit and lower[end - 2:end] in _GLUED_TAILS and lower.endswith(_GLUED_ENDINGS, 0, end):
            return True
    return False


def _with_street_name(text: str, start: int, end: int) -> tuple[int, int]:
    """"Petőfi utca 12", "Anastasios-Trüb-Gasse 31": the name before a separate street word (or
    joined by a hyphen) belongs to the street, and so does a house number before it."""
    left = _LEFT_WORDS.search(text, max(0, start - _STREET_NAME_REACH), start)
    if left and (_glued_word(text, start, end) in _GLUED_ENDINGS or text[start - 1] == "-"):
        start = left.start()
    return _with_house_number(text, start, end)


def _joins_two_streets(text: str) -> bool:
    return " and " in text or "&" in text


def _zip_label(text: str, start: int, end: int) -> bool:
    return label_before(_ZIP_LABEL, text, start) is not None


_DIGITS = anchors.digit_starts


def _capital_before(text: str, run: int) -> int:
    """Where "[A-Z]\\d..." (a UK postcode) can begin for a run of digits: the capital just before it."""
    return run - 1 if run and "A" <= text[run - 1] <= "Z" else -1


class AddressDetector(PatternDetector):
    name = "address"
    kind = "ADDRESS"
    patterns = (
        Pattern("street", _STREET, 0.9, at=_DIGITS, trim=_TRAILING, extend=_with_house_number),
        Pattern("street-lowercase", _STREET_LOWER, 0.8, at=_DIGITS, trim=_TRAILING, extend=_with_house_number),
        Pattern("unit-first", _UNIT_FIRST, 0.9, needs=("flat", "studio", "apt", "apartment", "unit", "suite", "h.no",
                                                          "hno", "h. no"), trim=_TRAILING, extend=_with_house_number),
        Pattern("keyword-first", _KEYWORD_FIRST, 0.85, at=_keyword_starts, trim=_TRAILING, extend=_with_house_number),
        Pattern("number-keyword", _NUMBER_KEYWORD, 0.85, at=_DIGITS, needs=_may_have_number_keyword, trim=_TRAILING,
                extend=_with_house_number),
        Pattern("turkish-street", _TURKISH, 0.8, needs=holds(
                r"(?:Sokak|Sokağı|Sk\.|Caddesi|Cad\.|Cd\.|Bulvarı|Blv\.|Mahallesi|Mah\.|Yolu)\b",
                words=("sok", "cad", "cd.", "sk.", "bulvar", "blv", "mah", "yolu"), lead=r"[ \t]",
                heads=("Sok", "Sk.", "Cad", "Cd.", "Bulvar", "Blv.", "Mah", "Yolu")),
                trim=_TRAILING, extend=_with_house_number),
        Pattern("unit", _UNIT_ALONE, 0.8, needs=holds(r"(?:apt|apartment|suite|ste|unit|flat)\.?\s*#?\s*[a-z0-9\-]*\d",
                re.IGNORECASE, words=("apt", "apartment", "suite", "ste", "unit", "flat"),
                heads=("apt", "apartment", "suite", "ste", "unit", "flat")), trim=_TRAILING,
                extend=_with_house_number),
        Pattern("po-box", _PO_BOX, 0.9, needs=("box",), trim=_TRAILING, extend=_with_house_number),
        Pattern("military", _MILITARY, 0.9, needs=("apo", "fpo", "dpo", "usns", "usnv", "uss ", "uscgc"),
                trim=_TRAILING, extend=_with_house_number),
        Pattern("uk-postcode", _UK_POSTCODE, 0.7, needs=holds_near_digits(r"[A-Z]\d[A-Z\d]?\s*\d[A-Z]{2}", _capital_before),
                trim=_TRAILING, extend=_with_house_number),
        Pattern("suffix-after-name", _WORD_NUMBER, 0.8, needs=_may_end_like_a_street, validate=_ends_like_a_street,
                extend=_with_street_name),
        Pattern("street-after-address-word", _STREET_AFTER_CONTEXT, 0.85, needs=_ADDRESS_WORDS),
        Pattern("intersection", _INTERSECTION, 0.8, needs=_joins_two_streets),
        Pattern("postcode-context", _SHORT_POSTCODE, 0.8, needs=("zip", "post")),
        # one ZIP shape: after a state, a comma or "zip:" it is surer
        Pattern("zip-context", _ZIP, 0.8, at=_DIGITS, validate=_zip_label),
        Pattern("zip", _ZIP, 0.5, at=_DIGITS, invalidate=_zip_label),
    )

    def applies(self, text: str) -> bool:
        # every shape here has a number in it (any digit: "²" counts, as it always has)
        return bool(anchors.digit_starts(text)) or any(map(str.isdigit, text))
