"""Strict recall, overlap recall and character precision, per kind and overall.

- strict recall: a gold span counts when every letter and digit of it is masked (by any kind: what
  matters for de-identification is that the text is hidden, not the label; a comma or newline left
  between two masks leaks nothing);
- overlap recall: a gold span counts when at least one of its characters is masked;
- character precision: the share of masked non-space characters that lie inside some gold span,
  per predicted kind and overall.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..spans import PhiSpan
from .gold import GoldDoc


@dataclass
class KindScore:
    gold: int = 0
    strict: int = 0
    overlap: int = 0
    masked_chars: int = 0
    true_chars: int = 0

    @property
    def strict_recall(self) -> float:
        return self.strict / self.gold if self.gold else float("nan")

    @property
    def overlap_recall(self) -> float:
        return self.overlap / self.gold if self.gold else float("nan")

    @property
    def char_precision(self) -> float:
        return self.true_chars / self.masked_chars if self.masked_chars else float("nan")


@dataclass
class Report:
    kinds: dict[str, KindScore] = field(default_factory=lambda: defaultdict(KindScore))
    overall: KindScore = field(default_factory=KindScore)
    docs: int = 0
    seconds: float = 0.0
    misses: list[tuple[str, str, str]] = field(default_factory=list)          # (doc id, kind, gold text)
    false_positives: list[tuple[str, str, str, str]] = field(default_factory=list)  # (id, kind, text, pattern)
    # masked characters outside every gold span, per rule ("detector/pattern"): what cost precision
    false_chars_by_rule: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def docs_per_second(self) -> float:
        return self.docs / self.seconds if self.seconds else float("nan")


def score_doc(report: Report, doc: GoldDoc, predicted: Sequence[PhiSpan]) -> None:
    text = doc.text
    masked = bytearray(len(text) + 1)
    for span in predicted:
        masked[span.start:span.end] = b"\x01" * (span.end - span.start)
    in_gold = bytearray(len(text) + 1)
    for start, end, _ in doc.spans:
        in_gold[start:end] = b"\x01" * (end - start)

    for start, end, kind in doc.spans:
        chars = [i for i in range(start, end) if text[i].isalnum()] or \
            [i for i in range(start, end) if not text[i].isspace()]
        hit = [masked[i] for i in chars]
        score = report.kinds[kind]
        for s in (score, report.overall):
            s.gold += 1
            s.strict += bool(hit) and all(hit)
            s.overlap += any(hit)
        if not (hit and all(hit)):
            report.misses.append((doc.id, kind, text[start:end]))

    for span in predicted:
        chars = [i for i in range(span.start, span.end) if not text[i].isspace()]
        true = sum(in_gold[i] for i in chars)
        for s in (report.kinds[span.kind], report.overall):
            s.masked_chars += len(chars)
            s.true_chars += true
        if true < len(chars):
            report.false_positives.append((doc.id, span.kind, text[span.start:span.end], span.pattern))
            report.false_chars_by_rule[f"{span.detector}/{span.pattern}"] += len(chars) - true
    report.docs += 1


def format_report(report: Report, title: str = "") -> str:
    lines = []
    if title:
        lines.append(title)
    lines.append(f"{'kind':<10}{'gold':>6}{'strict':>9}{'overlap':>9}{'masked':>9}{'char_prec':>11}")
    for kind in sorted(report.kinds):
        lines.append(_row(kind, report.kinds[kind]))
    lines.append(_row("OVERALL", report.overall))
    lines.append(f"docs {report.docs}  seconds {report.seconds:.2f}  docs/s {report.docs_per_second:.0f}")
    return "\n".join(lines)


def format_false_chars(report: Report, top: int = 12) -> str:
    """The rules whose masks fell outside the gold spans, by false characters (share of all masked)."""
    total = report.overall.masked_chars or 1
    rows = sorted(report.false_chars_by_rule.items(), key=lambda kv: -kv[1])[:top]
    lines = [f"false-positive characters by rule (of {report.overall.masked_chars} masked):"]
    lines += [f"  {rule:<44}{chars:>7}{chars / total:>8.1%}" for rule, chars in rows]
    return "\n".join(lines)


def _row(label: str, s: KindScore) -> str:
    def pct(x: float) -> str:
        return "   -" if x != x else f"{x:.3f}"
    return f"{label:<10}{s.gold:>6}{pct(s.strict_recall):>9}{pct(s.overlap_recall):>9}{s.masked_chars:>9}" \
           f"{pct(s.char_precision):>11}"
