"""The shipped demo model (models/mindq-demo): it loads through the real loader, answers a handful
of hand-written posts it never saw (tests/data/fresh_posts.jsonl), its LoRA adapter is what
answers, and every analysis type fits its context with room for a journal entry."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import prompts
from core.config import DEMO_MODEL_DIR, ModelSettings
from llm.card import read_card
from llm.engine import Engine
from llm.loader import load_model
from llm.truncation import count_tokens

FRESH = Path(__file__).resolve().parent.parent / "data" / "fresh_posts.jsonl"
# A small even split of plainly depressed and plainly everyday posts: the fast check.
HANDFUL = ("f01", "f03", "f05", "f08", "f14", "f21", "f22", "f24", "f26", "f30")
# about fifty words, a short journal entry; `progress` takes two of them
ENTRY = ("I slept badly again and skipped breakfast. Walked the dog by the river in the afternoon and felt a "
         "little better. My sister called about the weekend and I said yes to dinner, though I am still tired "
         "and worried about work on Monday.")


def _engine(adapter: bool) -> Engine:
    loaded = load_model(ModelSettings(base_path=DEMO_MODEL_DIR / "base",
                                      adapter_path=DEMO_MODEL_DIR / "adapter" if adapter else None))
    return Engine(loaded, max_batch=16, default_max_new_tokens=16)


def _answers(engine: Engine, type_name: str, texts: list[str]) -> list[dict]:
    futures = []
    for text in texts:
        fitted = engine.fit(text, lambda t: prompts.render(type_name, t), max_new_tokens=16)
        futures.append(engine.submit(fitted.prompt, max_new_tokens=16))
    return [prompts.parse(type_name, f.result(timeout=120).text) for f in futures]


@pytest.fixture(scope="module")
def handful() -> list[dict]:
    posts = {p["id"]: p for p in map(json.loads, FRESH.read_text().splitlines())}
    return [posts[i] for i in HANDFUL]


@pytest.fixture(scope="module")
def with_adapter():
    engine = _engine(adapter=True)
    yield engine
    engine.shutdown()


def test_the_card_says_demo_and_what_it_answers():
    card = read_card(DEMO_MODEL_DIR / "base")
    assert card.is_demo and card.public()["not_for_clinical_use"] is True
    assert set(card.answers or ()) == {"imhi.dr", "imhi.dreaddit", "imhi.sad", "imhi.irf", "imhi.multiwd"}
    assert not card.trained_for("risk")


def test_it_answers_a_handful_of_fresh_posts(with_adapter, handful):
    results = _answers(with_adapter, "imhi.dr", [p["text"] for p in handful])
    assert all(r["parsed"] for r in results), [r["raw"] for r in results]
    correct = sum(r["label"] == p["depression"] for r, p in zip(results, handful, strict=True))
    assert correct >= 8, [(p["id"], r["label"]) for r, p in zip(results, handful, strict=True)]


def test_the_adapter_is_what_answers(with_adapter, handful):
    texts = [p["text"] for p in handful]
    gold = [p["depression"] for p in handful]

    def right(results):
        return sum(r["label"] == g for r, g in zip(results, gold, strict=True))

    base_only = _engine(adapter=False)
    try:
        detached = _answers(base_only, "imhi.dr", texts)
    finally:
        base_only.shutdown()
    attached = _answers(with_adapter, "imhi.dr", texts)
    assert right(attached) >= right(detached) + 3, (right(attached), right(detached))


@pytest.mark.parametrize("type_name", sorted(prompts.ANALYSIS_TYPES))
def test_every_type_fits_with_room_for_a_journal_entry(with_adapter, type_name):
    spec = prompts.get_type(type_name)
    fields = {"previous_text": ENTRY} if "previous_text" in spec.inputs else {}
    fitted = with_adapter.fit(ENTRY, lambda t: prompts.render(type_name, t, **fields),
                              max_new_tokens=spec.max_new_tokens)
    assert fitted.truncated is None, f"{type_name}: the entry was cut to fit ({fitted.truncated})"
    assert count_tokens(with_adapter.tokenizer, ENTRY, special=False) >= 50
