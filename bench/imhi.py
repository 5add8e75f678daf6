"""IMHI test sets through the engine: weighted F1 per task beside the majority-class baseline.

Reads MentalLLaMA's public test sets (``test_data/test_instruction/<task>.csv``; gold labels are
read from the gold answers with the platform's own parser), scrubs each post with the
platform's scrubber, fits and renders the prompt as the analysis handler does, generates
through ``llm.engine.Engine`` (continuous batching, as a gpu worker serves) and parses the
answer with ``prompts.parse``. Prints one table: n, weighted F1, accuracy, share parsed, the
majority-class baseline, and MentaLLaMA's published figure where one is recorded below. Also
scores the hand-written fresh posts (tests/data/fresh_posts.jsonl), which no training set saw.

    python -m bench.imhi --imhi /path/to/MentalLLaMA [--limit 200] [--model-dir models/mindq-demo]

The test sets are for this measurement only: nothing here trains or tunes on them.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from pathlib import Path

import prompts
from core.config import DEMO_MODEL_DIR, ModelSettings
from llm.card import read_card
from llm.engine import Engine
from llm.loader import load_model
from mindq.demo_model.data import TASKS
from mindq.demo_model.evaluate import score

# MentaLLaMA's published weighted F1 on these test sets. Left empty: the paper's tables are not
# among the sources reachable from this machine, and figures quoted from memory are not evidence.
PUBLISHED: dict[str, float | None] = dict.fromkeys(TASKS)
_QUERY = re.compile(r'^\s*Consider this post:\s*"(?P<post>.*)"\s*Question:\s*(?P<question>.*?)\s*$', re.S)
FRESH = Path(__file__).resolve().parent.parent / "tests" / "data" / "fresh_posts.jsonl"
ANSWER_TOKENS = 24  # the label comes first; enough for "<label>. Reasoning: ..." to parse


def test_examples(root: Path, task: str, limit: int | None) -> list[tuple[str, dict[str, str], str]]:
    """(post, fields, gold label) for one IMHI test set."""
    type_name = TASKS[task]
    spec = prompts.get_type(type_name)
    out = []
    with (root / "test_data" / "test_instruction" / f"{task}.csv").open(newline="", encoding="utf-8") as fh:
        csv.field_size_limit(1 << 24)
        rows = csv.reader(fh)
        next(rows, None)
        for row in rows:
            match = _QUERY.match(row[0]) if row else None
            label = prompts.parse(type_name, row[1])["label"] if match and len(row) > 1 else None
            if not match or label is None:
                continue
            question = match["question"].lower()
            fields = {c.name: next((v for v in c.values if v in question), c.default) for c in spec.choices}
            out.append((" ".join(match["post"].split()), fields, label))
    return out[:limit] if limit else out


def run_task(engine: Engine, scrub, type_name: str, items, max_new: int) -> tuple[list[str], list[str | None]]:
    futures = []
    for post, fields, _ in items:
        def render(text: str, fields: dict[str, str] = fields) -> str:
            return prompts.render(type_name, text, **fields)

        fitted = engine.fit(scrub(post), render, max_new_tokens=prompts.get_type(type_name).max_new_tokens)
        futures.append(engine.submit(fitted.prompt, max_new_tokens=max_new, priority="batch"))
    predicted = [prompts.parse(type_name, f.result().text)["label"] for f in futures]
    return [gold for _, _, gold in items], predicted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--imhi", type=Path, required=True, help="a MentalLLaMA checkout")
    parser.add_argument("--model-dir", type=Path, default=DEMO_MODEL_DIR)
    parser.add_argument("--limit", type=int, default=None, help="posts per task (default: all)")
    parser.add_argument("--max-new-tokens", type=int, default=ANSWER_TOKENS)
    parser.add_argument("--no-adapter", action="store_true", help="serve the base without its LoRA")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    from phi import Scrubber

    scrubber = Scrubber()
    adapter = None if args.no_adapter else args.model_dir / "adapter"
    loaded = load_model(ModelSettings(base_path=args.model_dir / "base", adapter_path=adapter))
    engine = Engine(loaded, max_batch=32, default_max_new_tokens=args.max_new_tokens)
    card = read_card(args.model_dir / "base")
    print(f"model {loaded.model_id} ({card.kind} {card.name} v{card.version}); adapter "
          f"{'attached' if adapter else 'DETACHED'}; parser {prompts.PARSER_VERSION}", flush=True)
    figures: dict[str, dict] = {}
    started = time.monotonic()
    try:
        for task, type_name in TASKS.items():
            items = test_examples(args.imhi, task, args.limit)
            t0 = time.monotonic()
            gold, pred = run_task(engine, lambda s: scrubber.scrub(s).text, type_name, items, args.max_new_tokens)
            figures[task] = {**score(gold, pred), "seconds": round(time.monotonic() - t0, 1)}
            print(f"  {task}: {len(items)} posts in {figures[task]['seconds']} s", file=sys.stderr, flush=True)
        fresh = [json.loads(line) for line in FRESH.read_text().splitlines() if line.strip()]
        for question, type_name in (("depression", "imhi.dr"), ("stress", "imhi.dreaddit")):
            items = [(p["text"], {}, p[question]) for p in fresh]
            gold, pred = run_task(engine, lambda s: scrubber.scrub(s).text, type_name, items, args.max_new_tokens)
            figures[f"fresh:{question}"] = score(gold, pred)
    finally:
        engine.shutdown()
    imhi = [figures[t]["weighted_f1"] for t in TASKS]
    summary = {"model_id": loaded.model_id, "adapter": bool(adapter),
               "mean_weighted_f1": round(sum(imhi) / len(imhi), 4),
               "min_margin_over_majority": round(min(figures[t]["weighted_f1"] - figures[t]["majority_weighted_f1"]
                                                     for t in TASKS), 4),
               "parsed": round(sum(figures[t]["parsed"] * figures[t]["n"] for t in TASKS)
                               / sum(figures[t]["n"] for t in TASKS), 4),
               "seconds": round(time.monotonic() - started, 1)}
    _table(figures)
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "summary": summary}, indent=2) + "\n")
    return 0


def _table(figures: dict[str, dict]) -> None:
    print(f"{'set':<20}{'n':>6}{'wF1':>8}{'majority':>10}{'margin':>8}{'acc':>7}{'parsed':>8}{'published':>11}")
    for name, f in figures.items():
        published = PUBLISHED.get(name)
        print(f"{name:<20}{f['n']:>6}{f['weighted_f1']:>8.3f}{f['majority_weighted_f1']:>10.3f}"
              f"{f['weighted_f1'] - f['majority_weighted_f1']:>+8.3f}{f['accuracy']:>7.3f}{f['parsed']:>8.3f}"
              f"{(f'{published:.3f}' if published is not None else 'n/a'):>11}")


if __name__ == "__main__":
    raise SystemExit(main())
