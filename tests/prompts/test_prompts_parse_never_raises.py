"""Property-style: parse() returns a well-formed result for any output (seeded random inputs)."""

import random
import string
import zlib

import pytest

import prompts

_WORDS = ["yes", "no", "Reasoning:", "Answer:", "not", "{", "}", '"label":', "high", "low",
          "work", "school", "depression", "suicide", "no mental", "This post shows", "related to",
          "\n", "A)", "B.", "confidence", "%", "0.9", "\x00", "\ud800", "\u202e", "</s>", "..."]


def _random_outputs(seed: int, count: int):
    rng = random.Random(seed)
    alphabet = string.printable + "\u00e9\u201c\u201d\u2019\u4e2d\U0001f600\x00\x1b\ufffd"
    for _ in range(count):
        kind = rng.randrange(4)
        if kind == 0:
            yield "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 400)))
        elif kind == 1:
            yield " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(0, 60)))
        elif kind == 2:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300))).decode(
                "latin-1")
        else:
            yield "{" * rng.randrange(0, 3000) + '"label": "high"' + "}" * rng.randrange(0, 5)


def _check(result, name, raw):
    assert set(result) >= {"label", "rationale", "raw", "parsed", "prompt_version"}
    assert result["parsed"] is (result["label"] is not None)
    assert result["label"] is None or result["label"] in prompts.ANALYSIS_TYPES[name].labels
    assert result["rationale"] is None or isinstance(result["rationale"], str)
    assert isinstance(result["raw"], str)
    if "confidence" in result:
        assert 0.0 <= result["confidence"] <= 1.0
    if name == "risk":
        assert isinstance(result["requires_attention"], bool)


@pytest.mark.parametrize("name", sorted(prompts.ANALYSIS_TYPES))
def test_parse_never_raises_on_random_text(name):
    for raw in _random_outputs(seed=zlib.crc32(name.encode()), count=150):
        result = prompts.parse(name, raw)
        _check(result, name, raw)
        assert result["raw"] == raw


@pytest.mark.parametrize("raw", [
    None, b"yes. Reasoning: bytes", b"\xff\xfe\x00binary", bytearray(b"no."), 12345, ["yes"],
    "\ud800\udfff lone surrogates yes", "yes " * 200_000, "Reasoning: " * 50_000, "{" * 100_000,
])
@pytest.mark.parametrize("name", ["imhi.dr", "imhi.sad", "risk"])
def test_parse_never_raises_on_odd_values(name, raw):
    _check(prompts.parse(name, raw), name, raw)


def test_bytes_are_decoded():
    assert prompts.parse("imhi.dr", b"yes. Reasoning: x")["label"] == "yes"
