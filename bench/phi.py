"""Benchmark of the PHI scrubber against scrubadub's default Scrubber, in one run.

    nice .venv/bin/python -m bench.phi [--n 300] [--repeat 3] [--presidio PATH]

On the presidio development set, on generated clinical notes and patient journals (the
held-out and final template splits) and on generated ICU nursing notes (the held-out split, and
long notes of 2-3 KB), prints for both scrubbers: documents per CPU-second on one
core (best of --repeat passes over the same documents, single thread, process CPU time) and strict
recall, overlap recall and character precision; then the speed ratio. Recall counts any mask
over a gold span, so scrubadub is not penalised for labels.
"""
from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import scrubadub

from phi import PhiSpan, Scrubber
from phi.eval import gold, nursing, synth
from phi.eval.metrics import Report, score_doc

_PRESIDIO = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "phi" / "presidio_synth.jsonl"
Detect = Callable[[str], list[PhiSpan]]


def scrubadub_default() -> Detect:
    scrubber = scrubadub.Scrubber()

    def detect(text: str) -> list[PhiSpan]:
        return [PhiSpan(f.beg, f.end, "ID", "scrubadub", f.type) for f in scrubber.iter_filth(text)]
    return detect


def docs_per_second(detect: Detect, texts: Sequence[str], repeat: int) -> float:
    """Documents per second of this process's CPU time (best pass): on a machine shared with other
    work, CPU time is the per-core figure; wall time would count the time others held the core."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for text in texts:
            detect(text)
        best = min(best, time.process_time() - started)
    return len(texts) / best


def quality(detect: Detect, docs: Sequence[gold.GoldDoc]) -> Report:
    report = Report()
    for doc in docs:
        score_doc(report, doc, detect(doc.text))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="generated documents per genre")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--presidio", default=str(_PRESIDIO))
    args = parser.parse_args()
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the goal is per core
    except (AttributeError, OSError):
        pass

    sets = {}
    if Path(args.presidio).exists():
        sets["presidio_synth"] = gold.read(args.presidio)
    for split in ("heldout", "final"):
        sets[f"clinical_{split}"] = synth.generate("clinical", args.n, split)
        sets[f"journal_{split}"] = synth.generate("journal", args.n, split)
    sets["nursing_heldout"] = nursing.generate(args.n, "heldout")
    sets["nursing_2-3KB"] = nursing.generate(args.n, "heldout", lines=(26, 34), seed=11)

    ours = Scrubber().detect
    theirs = scrubadub_default()
    for name, docs in sets.items():
        sizes = sorted(len(d.text) for d in docs)
        print(f"{name}: {len(docs)} docs, median {sizes[len(sizes) // 2]} characters")
    print(f"{'set':<18}{'scrubber':<20}{'docs':>6}{'docs/s':>9}{'strict':>8}{'overlap':>9}{'char_prec':>10}")
    for name, docs in sets.items():
        texts = [d.text for d in docs]
        speeds = {}
        for label, detect in (("phi.Scrubber", ours), ("scrubadub default", theirs)):
            speeds[label] = docs_per_second(detect, texts, args.repeat)
            r = quality(detect, docs).overall
            print(f"{name:<18}{label:<20}{len(docs):>6}{speeds[label]:>9.0f}{r.strict_recall:>8.3f}"
                  f"{r.overlap_recall:>9.3f}{r.char_precision:>10.3f}")
        ratio = speeds["phi.Scrubber"] / speeds["scrubadub default"]
        print(f"{name:<18}{'speed ratio ours/scrubadub':<26}{ratio:>9.2f}x")


if __name__ == "__main__":
    main()
