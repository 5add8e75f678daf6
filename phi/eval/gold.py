"""Gold files: one JSON object a line, ``{"id", "text", "spans": [[start, end, kind], ...]}``."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GoldDoc:
    id: str
    text: str
    spans: tuple[tuple[int, int, str], ...]


def read(path: str | Path) -> list[GoldDoc]:
    with open(path, encoding="utf-8") as f:
        return list(parse(f))


def parse(lines: Iterable[str]) -> Iterator[GoldDoc]:
    for n, line in enumerate(lines):
        if line.strip():
            obj = json.loads(line)
            yield GoldDoc(str(obj.get("id", n)), obj["text"], tuple((s, e, k) for s, e, k in obj["spans"]))


def write(path: str | Path, docs: Iterable[GoldDoc]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps({"id": doc.id, "text": doc.text, "spans": [list(s) for s in doc.spans]},
                               ensure_ascii=False) + "\n")
