"""The evaluation CLI and the synthetic gold generators."""
import json
import subprocess
import sys

from phi.eval import gold, nursing, synth
from phi.eval.cli import evaluate, main
from phi.eval.metrics import Report, score_doc
from phi.spans import PhiSpan


def test_metrics_strict_overlap_and_char_precision():
    doc = gold.GoldDoc("d", "Dr. John Smith on 3/4", ((4, 14, "NAME"), (18, 21, "DATE")))
    report = Report()
    score_doc(report, doc, [PhiSpan(4, 8, "NAME"), PhiSpan(15, 21, "DATE")])
    assert report.overall.gold == 2
    assert report.kinds["NAME"].strict == 0 and report.kinds["NAME"].overlap == 1
    assert report.kinds["DATE"].strict == 1
    assert report.overall.masked_chars == 4 + 5  # "on 3/4" has 5 non-space characters
    assert report.overall.true_chars == 4 + 3


def test_false_positive_characters_are_counted_per_rule(capsys, tmp_path):
    doc = gold.GoldDoc("d", "Dr. John Smith on 3/4", ((4, 14, "NAME"),))
    report = Report()
    score_doc(report, doc, [PhiSpan(4, 14, "NAME", "name", "title"), PhiSpan(18, 21, "DATE", "date", "month-day")])
    assert dict(report.false_chars_by_rule) == {"date/month-day": 3}
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({"id": "1", "text": "Propofol gtt on 3/4.", "spans": []}) + "\n")
    assert main(["eval", str(path)]) == 0
    assert "false-positive characters by rule" in capsys.readouterr().out


def test_nursing_family_splits_are_seeded_and_disjoint():
    dev, heldout = nursing.generate(20, "dev"), nursing.generate(20, "heldout")
    assert [d.text for d in dev] == [d.text for d in nursing.generate(20, "dev")]
    for doc in dev + heldout:
        assert doc.spans and all(0 <= s < e <= len(doc.text) for s, e, _ in doc.spans)
    assert not set(nursing._TEMPLATES["dev"]) & set(nursing._TEMPLATES["heldout"]) - {"{SIGN}"}
    assert not set(nursing._VOCAB["dev"]["hosp"]) & set(nursing._VOCAB["heldout"]["hosp"])
    styles = {("upper" if d.text.isupper() else "lower" if d.text.islower() else "mixed") for d in dev}
    assert styles == {"upper", "lower", "mixed"}


def test_cli_prints_per_kind_and_overall(tmp_path, capsys):
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({"id": "1", "text": "Call Dr. Smith at 617-555-0123.",
                                "spans": [[9, 14, "NAME"], [18, 30, "PHONE"]]}) + "\n")
    assert main(["eval", str(path)]) == 0
    out = capsys.readouterr().out
    for word in ("NAME", "PHONE", "OVERALL", "strict", "overlap", "char_prec", "docs/s"):
        assert word in out


def test_python_dash_m_phi_eval_runs(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({"id": "1", "text": "Dr. Smith", "spans": [[4, 9, "NAME"]]}) + "\n")
    out = subprocess.run([sys.executable, "-m", "phi", "eval", str(path)], capture_output=True, text=True,
                         check=True).stdout
    assert "OVERALL" in out and "1.000" in out


def test_generators_are_deterministic_and_cover_every_kind():
    a = synth.generate("clinical", 40, "dev")
    b = synth.generate("clinical", 40, "dev")
    assert a == b
    kinds = {k for doc in a + synth.generate("journal", 40, "dev") for _, _, k in doc.spans}
    assert kinds >= {"NAME", "DATE", "PHONE", "EMAIL", "ADDRESS", "LOCATION", "MRN", "SSN", "AGE", "URL", "IP", "ID"}
    for doc in a:
        for start, end, _ in doc.spans:
            assert doc.text[start:end].strip() == doc.text[start:end]


def test_scrubber_meets_the_bar_on_generated_journals():
    # a smoke check of the whole pipeline, not the benchmark: see bench/phi.py for the figures
    report = evaluate(synth.generate("journal", 60, "heldout"))
    assert report.overall.strict_recall > 0.9
    assert report.overall.char_precision > 0.9


def test_hand_written_documents_stay_masked():
    from pathlib import Path
    report = evaluate(gold.read(Path(__file__).parent / "data" / "hand_written.jsonl"))
    assert report.overall.overlap_recall == 1.0
    assert report.overall.strict_recall >= 0.95
    assert report.overall.char_precision >= 0.9
