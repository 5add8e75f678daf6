"""The name detector's rule table: each rule decides its own case (names and non-names side by side)."""
import pytest

from phi import lexicon
from phi.detectors import name as name_module
from phi.detectors.name import RULES, WORD_CLASSES, NameDetector

# (rule that decides, text, token, is it a name)
CASES = [
    ("everyday-lowercase", "she went home", "went", False),
    ("never-a-name", "The plan is fine.", "The", False),
    ("odd-capitals", "EKG: QTc 421.", "QTc", False),
    ("odd-capitals", "Patient Mr. QuillonIgikmp wrote.", "QuillonIgikmp", True),
    ("clinical-word", "Zoloft helps.", "Zoloft", False),
    ("clinical-word", "Started Abilify 5 mg.", "Abilify", False),
    ("clinical-word", "Dictated by K. Hickman today.", "Hickman", True),
    ("clinical-word", "Hickman line flushed.", "Hickman", False),
    ("titled-or-introduced", "Dr. Smith saw her.", "Smith", True),
    ("titled-or-introduced", "My name is Rubija.", "Rubija", True),
    ("relative", "My sister jenny keeps texting me.", "jenny", True),
    ("kin-word", "SON JIM called at 1900.", "JIM", True),
    ("kin-word", "husband, tom, at bedside", "tom", True),
    ("allow-list-veto", "Pt started on Labetalol drip.", "Labetalol", False),
    ("allow-list-veto", "pt with aggitation overnight", "aggitation", False),
    ("lowercase-after-label", "attending: crystal hayes", "crystal", True),
    ("all-capitals", "EKG: JRV, normal.", "JRV", False),
    ("all-capitals", "Patient: SMITH, JOHN", "SMITH", True),
    ("lowercase-first-name", "met terrence for coffee", "terrence", True),
    ("lowercase-first-name-before-verb", "ok so jess cancelled on me", "jess", True),
    ("lowercase-after-verb", "I met szabo for coffee", "szabo", True),
    ("lowercase-unknown", "I hate that attila still doesn't believe me.", "attila", True),
    ("other-lowercase", "we had hope", "hope", False),
    ("census-name", "I saw Nguyen today.", "Nguyen", True),
    ("clinical-ending", "Started Kelvaxazole today.", "Kelvaxazole", False),
    ("hyphenated-words", "A Court-appointed guardian came.", "Court-appointed", False),
    ("header-or-speaker", "Extr: warm.", "Extr", False),
    ("header-or-speaker", "Ubul: What a wife.\nNicole: Remember me?", "Ubul", True),
    ("unexplained-first-word", "Zorvanta helps.", "Zorvanta", False),
    ("unknown-capitalised", "It was listed by Karataev yesterday.", "Karataev", True),
    ("capitalised-after-verb", "I met Grumpy today.", "Grumpy", True),
    ("capitalised-word", "We made a Decision today.", "Decision", False),
    ("name-word-mid-sentence", "I told Rose that I was not ready.", "Rose", True),
    ("first-name-word", "Nancy is here.", "Nancy", True),
    ("first-name-before-verb", "Grace picked me up.", "Grace", True),
    ("name-word-in-context", "Brown said no.", "Brown", True),
    ("everyday-word", "Hope so.", "Hope", False),
]


@pytest.fixture(scope="module")
def detector() -> NameDetector:
    return NameDetector()


@pytest.mark.parametrize("rule, text, token, is_name", CASES, ids=lambda v: str(v)[:40])
def test_each_rule_fires_on_its_case(detector, rule, text, token, is_name):
    decided = {surface: (by, verdict) for surface, by, verdict in detector.explain(text)}
    by, verdict = decided[token]
    assert by == rule, f"{token!r} in {text!r} decided by {by!r}, not {rule!r}"
    assert bool(verdict) == is_name


def test_every_rule_has_a_case():
    assert {rule for rule, _, _, _ in CASES} == {rule for rule, _ in RULES}
    assert len({rule for rule, _ in RULES}) == len(RULES)


def test_every_token_is_decided_by_a_rule(detector):
    from pathlib import Path
    texts = [text for _, text, _, _ in CASES]
    texts += (Path(__file__).parent / "data" / "hand_written.txt").read_text(encoding="utf-8").split("\n\n")
    undecided = [(surface, text[:40]) for text in texts for surface, by, _ in detector.explain(text) if not by]
    assert not undecided


def test_the_plan_keeps_the_table_order():
    # per (capitalised, word class), decide() asks the rules whose scope holds the token, in RULES' order
    order = [rule for rule, _ in RULES]
    for cap in (True, False):
        for word_class in WORD_CLASSES:
            plan = [rule for rule, _ in name_module._PLAN[cap][word_class]]
            assert plan and plan == sorted(plan, key=order.index)


def test_word_lists_are_data_files():
    # the word lists live in phi/data/name_*.txt, each with a comment header saying what it is
    from importlib import resources
    files = sorted(p for p in resources.files("phi.data").iterdir() if p.name.startswith("name_"))
    assert len(files) >= 10
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("# "), path.name
        entries = [line for line in lines if line.strip() and not line.startswith("#")]
        assert entries and all(line == line.strip().lower() for line in entries), path.name
    assert "dr" in lexicon.word_list("name_titles.txt")
    assert ("name", "is") in lexicon.word_pairs("name_intro_pairs.txt")
