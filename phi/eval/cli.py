"""``python -m phi eval FILE.jsonl [...]``: score the scrubber on gold files."""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from ..scrubber import Scrubber
from . import gold
from .metrics import Report, format_false_chars, format_report, score_doc


def evaluate(docs: Sequence[gold.GoldDoc], scrubber: Scrubber | None = None) -> Report:
    scrubber = scrubber or Scrubber()
    report = Report()
    started = time.perf_counter()
    predictions = [scrubber.detect(doc.text) for doc in docs]
    report.seconds = time.perf_counter() - started
    for doc, predicted in zip(docs, predictions, strict=True):
        score_doc(report, doc, predicted)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m phi")
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("eval", help="strict/overlap recall and character precision on gold JSONL files")
    ev.add_argument("files", nargs="+")
    ev.add_argument("--errors", type=int, default=0, help="print this many misses and false positives")
    ev.add_argument("--rules", type=int, default=10, help="list this many rules by false-positive characters")
    gen = sub.add_parser("generate", help="write synthetic gold files (clinical notes, patient journals)")
    gen.add_argument("outdir")
    gen.add_argument("--n", type=int, default=300)
    gen.add_argument("--split", choices=("dev", "heldout", "final"), default="dev")
    gen.add_argument("--family", choices=("synth", "nursing"), default="synth",
                     help="synth: clinical notes and journals; nursing: ICU nursing notes (dev, heldout)")
    args = parser.parse_args(argv)

    if args.command == "generate":
        if args.family == "nursing":
            from pathlib import Path

            from . import nursing
            if args.split not in nursing.SPLITS:
                parser.error(f"the nursing family has splits {', '.join(nursing.SPLITS)}")
            path = Path(args.outdir) / f"nursing_{args.split}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            gold.write(path, nursing.generate(args.n, args.split))
            print(path)
            return 0
        from .synth import write_sets
        for path in write_sets(args.outdir, args.n, args.split):
            print(path)
        return 0

    scrubber = Scrubber()
    for path in args.files:
        report = evaluate(gold.read(path), scrubber)
        print(format_report(report, title=f"== {path}"))
        if report.false_chars_by_rule:
            print(format_false_chars(report, args.rules))
        for doc_id, kind, value in report.misses[:args.errors]:
            print(f"MISS {doc_id} {kind}: {value!r}")
        for doc_id, kind, value, pattern in report.false_positives[:args.errors]:
            print(f"FP   {doc_id} {kind}/{pattern}: {value!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
