"""GPU pinning helpers (CPU-safe) and the CUDA paths (skipped without a GPU)."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from llm import gpu


def test_explicit_gpu_list():
    assert gpu.visible_gpus("0,1") == ["0", "1"]
    assert gpu.visible_gpus(" 2 ") == ["2"]
    assert gpu.visible_gpus("none") == []
    with pytest.raises(ValueError):
        gpu.visible_gpus("first")


def test_all_respects_inherited_visibility(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert gpu.visible_gpus("all") == ["2", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert gpu.visible_gpus("auto") == []


def test_auto_without_nvidia_smi(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert gpu.visible_gpus("auto") == []


def test_pin_env_for_child():
    env = gpu.pin_env(1, base={"PATH": "/bin"})
    assert env == {"PATH": "/bin", "CUDA_VISIBLE_DEVICES": "1", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
    assert gpu.pin_env(None, base={})["CUDA_VISIBLE_DEVICES"] == ""


def test_importing_worker_llm_does_not_initialise_cuda():
    code = ("import torch, llm.gpu, llm.loader, llm.engine; "
            "llm.gpu.visible_gpus('0'); print(torch.cuda.is_initialized())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_device_report_cpu():
    assert gpu.device_report("cpu") == {"device": "cpu"}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_device_report_cuda():
    report = gpu.device_report("cuda")
    assert report["device"] == "cuda:0" and report["memory_total"] > report["memory_used"] >= 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_engine_on_gpu_matches_cpu_greedy(tiny_paths, alone_cpu_text=None):
    from llm.engine import Engine
    from llm.loader import load_model
    from tests.worker.conftest import settings_for

    prompt = "USER: Consider this post: I can't sleep. ASSISTANT:"
    texts = []
    for device in ("cpu", "cuda"):
        eng = Engine(load_model(settings_for(tiny_paths), device=device))
        texts.append(eng.generate(prompt, max_new_tokens=8).text)
        eng.shutdown()
    assert texts[0] == texts[1]
