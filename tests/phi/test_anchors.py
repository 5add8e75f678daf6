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
    anchors._MONTH_WORD, location._MOVE_START, date._MEASURE_BEFORE, name._SIGNATURE, name._CREDENTIAL, name._TOKEN,
    location._TOKEN, location._STATE_ABBREVIATION, date._NUMERIC,
], ids=lambda r: r.pattern[:30])
def test_a_twin_finds_what_the_regex_finds_on_plain_ascii_text(regex):
    twin, lowered = anchors.twin(regex)
    assert twin is not regex and twin.flags & re.ASCII
    for text in _TEXTS + [t.upper() for t in _TEXTS] + [t.title() for t in _TEXTS]:
        if anchors.plain_ascii(text):
            string = text.lower() if lowered else text
            assert [m.span() for m in twin.finditer(string)] == [m.span() for m in regex.finditer(text)]


def test_ignoring_case_runs_on_lower_cased_text():
    assert anchors.twin(date._MEASURE_BEFORE)[1] and not anchors.twin(date._NUMERIC)[1]
    assert anchors.folded(date._MEASURE_BEFORE, "BP 120")[1] == "bp 120"
    assert anchors.folded(date._MEASURE_BEFORE, "Zürich BP 120")[1] == "Zürich BP 120"  # not ASCII: the regex itself
    assert anchors.folded(date._MEASURE_BEFORE, "BP\x1c120")[0] is date._MEASURE_BEFORE  # \s differs in re.ASCII


@pytest.mark.parametrize("source, flags, lowered", [
    (r"[A-Z]{2}", re.IGNORECASE, False),    # capitals: on lower-cased text they never match
    (r"[0-Z]", re.IGNORECASE, False),       # a range that holds capitals
    (r"a(?-i:b)", re.IGNORECASE, False),    # case-sensitive inside
    (r"abc", 0, False),                     # case-sensitive already
    (r"abc", re.IGNORECASE, True),
])
def test_a_twin_runs_on_lower_cased_text_only_where_case_cannot_matter(source, flags, lowered):
    regex = re.compile(source, flags)
    twin, on_lower_case = anchors.twin(regex)
    assert on_lower_case == lowered and twin.flags & re.ASCII


@pytest.mark.parametrize("source", [r"\x41", "\u017f", "a(?i:\u212a)", "[\u0100-\u0200]"])
def test_no_twin_where_ignoring_case_matches_non_ascii_letters_to_ascii(source):
    regex = re.compile(source, re.IGNORECASE if "(?i" not in source else 0)
    assert anchors.twin(regex) == (regex, False)


def test_the_twin_keeps_group_names():
    twin, lowered = anchors.twin(re.compile(r"(?P<v>ab)(?P=v)", re.IGNORECASE))
    assert lowered and twin.search("xabab").span("v") == (1, 3)


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


def test_month_starts_found_by_find_are_the_regex_matches():
    for text in _TEXTS + [t.upper() for t in _TEXTS] + ["janjan jan-feb 3mar _apr Ämay may", "decdec\ndec"]:
        assert anchors.month_starts(text) == tuple(m.start() for m in anchors._MONTH_WORD.finditer(text))


def test_a_phone_candidate_under_five_characters_has_no_shape():
    # the phone checks skip _shape below five characters: fewer than five digits is no phone shape
    from itertools import product

    from phi.detectors import phone
    for n in range(5):
        for chars in product("0 .-(x" if n == 4 else "0123 .-()+x/", repeat=n):
            assert phone._shape("".join(chars)) == ""
