"""The contract other code relies on: detect/scrub, [KIND] masks, surrogates, no web/DB imports."""
import subprocess
import sys

from phi import KINDS, PhiSpan, Scrubber, ScrubResult

NOTE = ("Pt John Smith (MRN 00123456) seen 3/4/2024 by Dr. Okafor at Mercy General Hospital. "
        "Call 617-555-0123. John said Smith family history of Parkinson's disease.")


def test_detect_returns_sorted_disjoint_spans_with_known_kinds(scrubber):
    spans = scrubber.detect(NOTE)
    assert spans and all(isinstance(s, PhiSpan) for s in spans)
    assert all(s.kind in KINDS for s in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    assert all(s.detector and s.pattern for s in spans), "every hit says what found it"


def test_scrub_replaces_each_span_with_its_kind(scrubber):
    result = scrubber.scrub(NOTE)
    assert isinstance(result, ScrubResult)
    assert "John" not in result.text and "Smith" not in result.text and "617-555-0123" not in result.text
    assert "[NAME]" in result.text and "[DATE]" in result.text and "[MRN]" in result.text
    assert "Parkinson's disease" in result.text
    assert result.spans == scrubber.detect(NOTE)


def test_surrogates_are_consistent_within_a_document(scrubber):
    text = "John Smith came in. Later John called; Mr. Smith was upset. Mary visited John."
    result = scrubber.scrub(text, surrogate=True)
    assert "John" not in result.text and "Smith" not in result.text and "Mary" not in result.text
    spans = scrubber.detect(text)
    fakes = {}
    for token, fake in _replaced_tokens(text, spans, result.text):
        assert fakes.setdefault(token, fake) == fake, f"{token} mapped to {fakes[token]} and {fake}"
    assert len(set(fakes.values())) == len(fakes), "different names get different stand-ins"
    assert scrubber.scrub(text, surrogate=True).text == result.text, "same document, same surrogates"


def _replaced_tokens(text, spans, scrubbed):
    # rebuild the scrubbed text span by span to pair each original name token with its stand-in
    out, offset = [], 0
    for span in spans:
        start = span.start + offset
        rest = text[span.end:]
        next_clear = rest[:min(len(rest), 4)]
        end = scrubbed.index(next_clear, start) if next_clear else len(scrubbed)
        original, fake = text[span.start:span.end].split(), scrubbed[start:end].split()
        if span.kind == "NAME" and len(original) == len(fake):
            out.extend(zip(original, fake, strict=True))
        offset += (end - start) - (span.end - span.start)
    return out


def test_other_kinds_get_plausible_surrogates(scrubber):
    result = scrubber.scrub("Call 617-555-0123 or write to a@b.com on 3/4/2024.", surrogate=True)
    assert "617-555-0123" not in result.text and "a@b.com" not in result.text
    assert "@" in result.text and "[" not in result.text


def test_package_imports_no_web_queue_or_database_code():
    code = ("import sys, phi; phi.Scrubber().scrub('Dr. Smith'); "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('flask', 'celery', 'sqlalchemy', 'psycopg', 'redis', 'mindq', 'jobstore', 'api', 'worker', 'tasks')]; "
            "assert not bad, bad; assert 'phi.eval' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_subset_of_detectors_can_be_chosen():
    from phi import registry
    only_email = Scrubber(registry.build(["email"]))
    assert [s.kind for s in only_email.detect("Dr. Smith, smith@example.com")] == ["EMAIL"]


def test_word_lists_are_package_data():
    # phi/data is a package so that setup.cfg's package_data patterns ship its files in the wheel
    from importlib import resources
    names = {p.name for p in resources.files("phi.data").iterdir()}
    assert {"census_first_names.txt.gz", "census_last_names.txt.gz", "english_words.txt.gz",
            "common_words.txt.gz", "allow_words.txt", "eponyms.txt", "LICENSE.scowl.txt"} <= names
