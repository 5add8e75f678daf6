"""The scan shortcuts find exactly what the plain scans find: lowered twins of IGNORECASE regexes,
boundaries moved after a first letter, and the parts of a text some patterns are limited to."""
import re

import pytest

from phi import anchors
from phi.detectors import date, location, name

_TEXTS = [
    "", "a", "BP 120/80, HR 88. Pt transferred to MGH on 3/4. Seen by J. Moreno RN\nTo: Finard 4",
    "MAR 3 mar march Jan. 2020 Dec-2019 xjan 4 Ojan", "SMITH, JOHN A\nBoston, MA 02114\n, NY\nCO\n Uruguay",
    "jane moreno rn -- karen szabo RN / j. moreno rrt\n--  k szabo, RT\nrn rn rn", "a\n\nb\n", "\n\n",
    "PS 10/5/40%, i:e 1:2, x 3/4, score of 7/10, Gcs 15", "tx'd to bwh at 2000; TO ICU; from the VA",
    "Hauptstraße 7, Anastasios-Trüb-Gasse 31, during 1990, Petőfi utca 12.",
]


@pytest.mark.parametrize("regex", [
    anchors._MONTH_WORD, location._MOVE_START, date._MEASURE_BEFORE, name._SIGNATURE, name._CREDENTIAL,
], ids=lambda r: r.pattern[:30])
def test_a_lowered_twin_finds_what_the_regex_finds_on_ascii_text(regex):
    twin = anchors.lowered_twin(regex)
    assert twin is not None
    for text in _TEXTS + [t.upper() for t in _TEXTS] + [t.title() for t in _TEXTS]:
        if text.isascii():
            assert [m.span() for m in twin.finditer(text.lower())] == [m.span() for m in regex.finditer(text)]


@pytest.mark.parametrize("source, flags", [
    (r"[A-Z]{2}", re.IGNORECASE),      # capitals: on lower-cased text they never match
    (r"[0-Z]", re.IGNORECASE),         # a range that holds capitals
    (r"a(?-i:b)", re.IGNORECASE),      # case-sensitive inside
    (r"\x41", re.IGNORECASE),          # "A" by its code
    ("\u017f", re.IGNORECASE),         # long s, which matches "s" when case is ignored
    (r"abc", 0),                       # case-sensitive already
])
def test_no_twin_where_case_may_matter(source, flags):
    assert anchors.lowered_twin(re.compile(source, flags)) is None


def test_the_twin_keeps_group_names():
    twin = anchors.lowered_twin(re.compile(r"(?P<v>ab)(?P=v)", re.IGNORECASE))
    assert twin is not None and twin.search("xabab").span("v") == (1, 3)


def test_a_boundary_after_the_first_letter_matches_the_same():
    source = r"(?:\bbp|\bi:e|\bx|pressure|\d\s*x)\W{0,3}$"
    plain, moved = re.compile(source), re.compile(anchors.boundary_after_first_letter(source))
    assert moved.pattern.startswith("(?:b(?<!\\w\\w)p|")
    for text in ["bp ", "xbp ", "BP: bp", "x", "ax", "i:e ", "hi:e", "3 x ", "bp", " pressure "]:
        for end in range(len(text) + 1):
            assert bool(plain.search(text, 0, end)) == bool(moved.search(text, 0, end)), (text, end)


def test_scanning_the_credential_lines_finds_every_signature():
    for text in _TEXTS + [t.upper() for t in _TEXTS]:
        whole = [m.span() for m in name._SIGNATURE.finditer(text)]
        lines = [m.span() for start, end in name._credential_lines(text)
                 for m in name._SIGNATURE.finditer(text, start, end)]
        assert lines == whole


def test_state_abbreviations_begin_only_where_they_are_tried():
    for text in _TEXTS:
        whole = [m.span() for m in location._STATE_ABBREVIATION.finditer(text)]
        at = [m.span() for m in anchors.matches_at(location._STATE_ABBREVIATION, text, location._state_starts(text))]
        assert at == whole
