"""The declared-pattern base: the one context policy, validators that prune hits, and the mechanics
(value groups, trimming, gates, shared matches), as tables of text -> expected spans."""
import re

import pytest

from phi import context, registry
from phi.detectors.base import Pattern, PatternDetector, literal_heads

from .helpers import Case, check

_FOUR_DIGITS = re.compile(r"\b\d{4}\b")


class Probe(PatternDetector):
    """A detector with one context word, to pin the context policy down."""

    name = "probe"
    kind = "ID"
    context = ("code",)
    patterns = (Pattern("four-digits", _FOUR_DIGITS, context=True),)


def _pad(n: int) -> str:
    return "x" * (n - 1) + " "  # n characters between the context word and the number


@pytest.mark.parametrize("text, found", [
    ("code 1234", ["1234"]),
    ("CODE: 1234", ["1234"]),                                 # lower-cased
    ("code " + _pad(context.WINDOW - 5) + "1234", ["1234"]),  # the whole word inside the window
    ("code " + _pad(context.WINDOW) + "1234", []),            # past the window
    ("1234 code", []),                                        # only the window before a match
    ("barcode 1234", []),                                     # words, not substrings
    ("code 1234 and 5678", ["1234", "5678"]),
], ids=str)
def test_context_words_count_in_the_window_before_a_match(text, found):
    assert [text[s.start:s.end] for s in Probe().find(text)] == found


@pytest.mark.parametrize("case", [
    # one window for every detector: an SSN word and a phone word reach exactly as far
    Case("SSN: " + _pad(context.WINDOW - 6) + "123 45 6789", [("123 45 6789", "SSN")]),
    Case("SSN: " + _pad(context.WINDOW) + "123 45 6789", [("123 45 6789", "PHONE")]),
    Case("call " + _pad(context.WINDOW - 6) + "5550123", [("5550123", "PHONE")]),
    Case("call " + _pad(context.WINDOW) + "5550123", [], ["5550123"]),
    Case("visa " + _pad(context.WINDOW - 6) + "4111 1111 1111 1112", [("4111 1111 1111 1112", "ID")]),
    Case("visa " + _pad(context.WINDOW) + "4111 1111 1111 1112", [], ["4111 1111 1111 1112"]),
    Case("last 4 of SSN 6789", [("6789", "SSN")]),
    Case("ssn 1234", [], ["1234"]),                              # four digits need "last" too
    # labels right before a value are read in the same window
    Case("MRN: 00123456", [("00123456", "MRN")]),
    Case("account number 12345", [("12345", "ID")]),
    Case("Boston, MA 02139", [("02139", "ADDRESS")]),
    Case("BP 120/80, pain 7/10", [], ["120/80", "7/10"]),
    Case("seen 12/20; follow-up date 7/10", [("12/20", "DATE"), ("7/10", "DATE")]),
], ids=str)
def test_the_context_policy_is_the_same_for_every_detector(scrubber, case):
    check(case, scrubber.detect(case.text))


@pytest.mark.parametrize("detector, text, found", [
    # validate: checksums and real addresses keep a hit; without them the shape is pruned
    ("card", "4111 1111 1111 1111", [("4111 1111 1111 1111", "card-luhn")]),
    ("card", "4111 1111 1111 1112", []),
    ("card", "visa 4111 1111 1111 1112", [("4111 1111 1111 1112", "card-context")]),
    ("card", "GB82 WEST 1234 5698 7654 32", [("GB82 WEST 1234 5698 7654 32", "iban")]),
    ("card", "GB82 WEST 1234 5698 7654 33", [("GB82 WEST 1234 5698 7654 33", "iban-shape")]),
    ("ip", "from 10.0.0.1", [("10.0.0.1", "ipv4")]),
    ("ip", "from 999.1.1.1", []),
    ("ip", "at fe80::1", [("fe80::1", "ipv6")]),
    ("ip", "at 10:30:45", []),
    # invalidate: impossible values, abbreviations, measures
    ("ssn", "123-45-6789", [("123-45-6789", "dashed")]),
    ("ssn", "000-12-3456", []),
    ("url", "see example.com.", [("example.com", "bare-domain")]),
    ("url", "e.g. this, i.e. that", []),
    ("date", "seen 12/20", [("12/20", "month-day"), ("12/20", "month-slash-year")]),
    ("date", "BP 120/80", []),
    ("date", "took 5 mg in 1990", [("1990", "year")]),
    ("date", "walked 2000 steps", []),
    ("date", "Jan said hi", []),
    ("date", "Jan 5", [("Jan 5", "month-day-year"), ("Jan", "month-alone")]),
    ("location", "Boston, MA", [("Boston", "city"), ("MA", "state-abbreviation")]),
    ("location", "Dr. Rhodes, MD.", []),
], ids=str)
def test_validators_prune_hits(detector, text, found):
    [det] = registry.build([detector])
    assert sorted((text[s.start:s.end], s.pattern) for s in det.find(text)) == sorted(found)


class Mechanics(PatternDetector):
    name = "mechanics"
    kind = "ID"
    patterns = (
        Pattern("value-group", re.compile(r"\bref (?P<v>\d+)"), needs=("ref",)),
        Pattern("trimmed", re.compile(r"\bwww\.\S+"), trim=".,"),
        Pattern("grown", re.compile(r"\bSt\b"), extend=lambda text, start, end: (start - 5, end)),
        Pattern("gated-out", re.compile(r"\d+"), needs=("never-in-the-text",)),
    )


@pytest.mark.parametrize("text, found", [
    ("ref 123", [("123", "value-group")]),                 # the v group, without its context
    ("go to www.a.org.", [("www.a.org", "trimmed")]),      # the full stop is the sentence's
    ("Main St", [("Main St", "grown")]),
    ("REF 123", []),                                       # the gate passes, the regex does not
], ids=str)
def test_pattern_mechanics(text, found):
    assert [(text[s.start:s.end], s.pattern) for s in Mechanics().find(text)] == found


def test_every_hit_names_its_detector_and_pattern(scrubber):
    spans = scrubber.detect("Dr. Smith, MRN 00123456, seen 3/4/2024 at 12 Oak Street; call 617-555-0123.")
    assert {(s.detector, s.pattern) for s in spans} >= {("name", "title"), ("identifier", "mrn-context"),
                                                        ("date", "numeric"), ("address", "street"),
                                                        ("phone", "separated")}


def test_patterns_that_share_a_shape_match_the_text_once():
    seen = []

    def digits(text: str) -> tuple[int, ...]:
        seen.append(text)
        return tuple(m.start() for m in re.finditer(r"\d+", text))

    shape = re.compile(r"\d{4}")

    class Shared(PatternDetector):
        name, kind = "shared", "ID"
        patterns = (Pattern("even", shape, at=digits, validate=lambda t, s, e: int(t[s:e]) % 2 == 0),
                    Pattern("odd", shape, at=digits, invalidate=lambda t, s, e: int(t[s:e]) % 2 == 0))

    text = "1234 and 4321"
    assert sorted((text[s.start:s.end], s.pattern) for s in Shared().find(text)) == [("1234", "even"),
                                                                                     ("4321", "odd")]
    assert seen == [text]


def test_regex_detectors_are_declared():
    declared = {d.name for d in registry.build() if isinstance(d, PatternDetector) and d.patterns}
    assert declared == {"email", "url", "ip", "ssn", "card", "phone", "identifier", "date", "age", "address",
                        "location", "name"}


def test_literal_heads_come_from_the_alternatives_themselves():
    """A gate's heads are derived from its regex's alternatives: an optional last character is left
    out, a head a shorter one begins is dropped, and an alternative with no literal start is refused."""
    assert literal_heads((r"Children'?s", r"Rehab(?:ilitation)?", r"St\.?\s+Patrick", r"VA", r"VAMC", r"lives?\s+in")) \
        == ("Children", "Rehab", "St", "VA", "live")
    assert literal_heads((r"Flew\s+to", r"City"), lower=True) == ("flew", "city")
    with pytest.raises(ValueError):
        literal_heads((r"(?:a|b)c",))
