"""The engine benchmark and the random-model builder run end to end on a tiny shape."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import torch

from llm import synthetic
from llm.engine import Engine

BENCH = Path(__file__).resolve().parents[2] / "bench" / "llm_engine.py"


def test_build_random_serves_token_prompts(monkeypatch):
    shape = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=4, vocab_size=300, max_position_embeddings=128)
    monkeypatch.setitem(synthetic.LLAMA_SHAPES, "test", shape)
    loaded = synthetic.build_random("test", device="cpu", dtype=torch.float32, lora_r=4, merge=False)
    assert loaded.model_id == "random-llama-test+lora4" and not loaded.merged
    with Engine(loaded) as eng:
        result = eng.generate([1, 5, 6, 7], max_new_tokens=5, ignore_eos=True)
    assert result.completion_tokens == 5 and len(result.text.split()) == 5


def test_engine_bench_cpu_smoke(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("llm_engine_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rc = bench.main(["--shape", "tiny", "--n", "3", "--baseline-n", "2", "--prompt-tokens", "24",
                     "--new-tokens", "4", "--model-dir", str(tmp_path / "m"), "--json"])
    assert rc == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["engine"]["requests"] == 3 and report["hf"]["requests"] == 2
    assert report["identical_outputs"] == 2
    if not torch.cuda.is_available():
        assert bench.main(["--device", "cuda"]) == 0  # skips with a message
        assert "no CUDA device" in capsys.readouterr().out
