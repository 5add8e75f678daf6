"""IMHI instruction data (MentalLLaMA's train_data/) as examples in mindq's own prompt format.

Each IMHI query is ``Consider this post: "<post>" Question: <question>``; the post is taken out,
scrubbed like any patient text, and rendered again through ``prompts.render`` so training sees
exactly what the platform sends the model. The answer is MentaLLaMA's short form,
``<label>. Reasoning: <first sentence of the gold reasoning>``. Only ``train_data/`` is read:
the IMHI test sets (``test_data/``) never reach training or tuning.
"""
from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import prompts

# IMHI task folder -> mindq analysis type
TASKS: dict[str, str] = {
    "DR": "imhi.dr",
    "dreaddit": "imhi.dreaddit",
    "SAD": "imhi.sad",
    "Irf": "imhi.irf",
    "MultiWD": "imhi.multiwd",
}
# train_data/instruction_data/<task>/ file names per split
_FILES = {"train": ("train.csv",), "val": ("val.csv",)}
# Irf's and MultiWD's train.csv are absent from some copies (too large for the snapshot this
# was built from): their val.csv is then split by post, this share going to training.
SPLIT_VAL_TRAIN_SHARE = 0.7

_QUERY = re.compile(r'^\s*Consider this post:\s*"(?P<post>.*)"\s*Question:\s*(?P<question>.*?)\s*$', re.S)
_REASONING = re.compile(r"reasoning\s*:\s*", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
MAX_REASON_WORDS = 10

csv.field_size_limit(1 << 24)


@dataclass(frozen=True)
class Example:
    type: str  # mindq analysis type
    post: str  # scrubbed post text
    answer: str  # "<label>. Reasoning: ..."
    label: str
    task: str  # IMHI task folder, or "everyday"
    fields: dict[str, str] = field(default_factory=dict)  # the type's choices (risk_factor, dimension)

    def prompt(self) -> str:
        return prompts.render(self.type, self.post, **self.fields)


def short_answer(label: str, gold: str) -> str:
    """MentaLLaMA's completion form: the label word, then the gold reasoning's first sentence."""
    parts = _REASONING.split(gold, maxsplit=1)
    reason = parts[1] if len(parts) == 2 else ""
    first = _SENTENCE_END.split(reason.strip(), maxsplit=1)[0] if reason.strip() else ""
    words = first.split()
    if len(words) > MAX_REASON_WORDS:
        first = " ".join(words[:MAX_REASON_WORDS]).rstrip(",;:") + "."
    return f"{label}. Reasoning: {first}" if first else f"{label}."


def _choices(type_name: str, question: str) -> dict[str, str] | None:
    """The type's choice values named in the question; None when a choice cannot be read."""
    spec = prompts.get_type(type_name)
    found: dict[str, str] = {}
    lowered = question.lower()
    for choice in spec.choices:
        value = next((v for v in choice.values if v in lowered), None)
        if value is None:
            return None
        found[choice.name] = value
    return found


def _rows(path: Path) -> Iterator[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for row in reader:
            if len(row) >= 2:
                yield row[0], row[1]


def _post_share(post: str) -> float:
    return int(hashlib.sha256(post.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def read_task(root: Path, task: str, split: str, scrub: Callable[[str], str]) -> list[Example]:
    """Examples of one IMHI task and split ("train" | "val") from a MentalLLaMA checkout."""
    type_name = TASKS[task]
    folder = Path(root) / "train_data" / "instruction_data" / task
    own = folder / _FILES[split][0]
    if split == "train" and not own.exists():
        source, keep = folder / "val.csv", (lambda share: share < SPLIT_VAL_TRAIN_SHARE)
    elif split == "val" and not (folder / "train.csv").exists():
        source, keep = own, (lambda share: share >= SPLIT_VAL_TRAIN_SHARE)
    else:
        source, keep = own, (lambda share: True)
    out: list[Example] = []
    for query, gold in _rows(source):
        match = _QUERY.match(query)
        if not match:
            continue
        post = " ".join(match["post"].split())
        if not post or not keep(_post_share(post)):
            continue
        fields = _choices(type_name, match["question"])
        label = prompts.parse(type_name, gold)["label"]
        if fields is None or label is None:
            continue
        out.append(Example(type_name, scrub(post), short_answer(label, gold), label, task, fields))
    return out


def read_imhi(root: Path, split: str, scrub: Callable[[str], str]) -> list[Example]:
    return [ex for task in TASKS for ex in read_task(root, task, split, scrub)]


def split_note(root: Path) -> dict[str, str]:
    """Where each task's train and val examples came from, for the model card."""
    notes = {}
    for task in TASKS:
        folder = Path(root) / "train_data" / "instruction_data" / task
        notes[task] = ("train.csv / val.csv" if (folder / "train.csv").exists() else
                       f"val.csv split by post: {SPLIT_VAL_TRAIN_SHARE:.0%} train, the rest val "
                       "(train.csv absent)")
    return notes
