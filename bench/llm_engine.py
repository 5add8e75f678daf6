"""Benchmark the serving engine alone: continuous batching vs plain HF ``generate`` one by one.

CPU (runs anywhere; a few minutes on 2 shared cores):
    nice python -m bench.llm_engine --n 64 --baseline-n 8 --model-dir /tmp/mindq-small
    nice python -m bench.llm_engine --n 16 --hf-cb      # also transformers' generate_batch
GPU (random weights built on the device from a LlamaConfig; skips cleanly without CUDA):
    python -m bench.llm_engine --device cuda --shape 7b --n 512 --baseline-batch 64 --baseline-n 128
    python -m bench.llm_engine --device cuda --shape 33b --quant fp8 --n 256 --baseline-n 8
    python -m bench.llm_engine --device cuda --shape 7b --hf-cb   # compare with transformers' CB

Both paths run the same prompts (random token ids, fixed length) through the engine (all
submitted at once, as concurrent Celery jobs would) and through ``model.generate`` in the same
process, then print tokens/s, jobs/min, p50/p95 latency, process CPU time, the ratio and how many
greedy outputs are identical. EOS is ignored so every request generates exactly --new-tokens.
The baseline may run on a subset (--baseline-n): the ratio compares tokens/s.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--shape", default=None, help="cpu: tiny|small (default small); cuda: 7b|33b (default 7b)")
    p.add_argument("--quant", default="none", choices=["none", "8bit", "4bit", "fp8"], help="cuda only")
    p.add_argument("--n", type=int, default=32, help="number of requests")
    p.add_argument("--prompt-tokens", type=int, default=None, help="default 256 (cpu) / 512 (cuda)")
    p.add_argument("--new-tokens", type=int, default=None, help="default 32 (cpu) / 128 (cuda)")
    p.add_argument("--max-batch", type=int, default=None, help="engine max batch (default: n, cpu / 256, cuda)")
    p.add_argument("--max-prefill-tokens", type=int, default=None, help="prompt tokens per prefill step")
    p.add_argument("--baseline-batch", type=int, default=1, help="HF generate batch size (1: one by one)")
    p.add_argument("--baseline-n", type=int, default=None, help="requests for the baseline (default: n)")
    p.add_argument("--lora-r", type=int, default=8)
    p.add_argument("--merge", action=argparse.BooleanOptionalAction, default=None,
                   help="merge the LoRA into the weights (default: yes on cuda, no on cpu)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads, baseline and engine (default: torch's / the engine's own)")
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--hf-cb", action="store_true",
                   help="also run transformers' own continuous batching (model.generate_batch)")
    p.add_argument("--model-dir", type=Path, default=None,
                   help="cpu: build the model here once and reuse it (default: a temp dir)")
    p.add_argument("--json", action="store_true", help="print one JSON line only")
    return p.parse_args(argv)


# -- models ----------------------------------------------------------------------------------
def load_cpu_model(args: argparse.Namespace, workdir: Path):
    from core.config import ModelSettings
    from llm.loader import load_model
    from llm.tiny import build_tiny

    model_dir = args.model_dir or workdir / "model"
    if (model_dir / "base" / "config.json").is_file():
        base, adapter = model_dir / "base", model_dir / "adapter"
    else:
        base, adapter = build_tiny(model_dir, size=args.shape, lora_r=args.lora_r)
    settings = ModelSettings(base_path=base, adapter_path=adapter if args.lora_r else None,
                             dtype="fp32", merge=bool(args.merge))
    return load_model(settings, device="cpu")


def load_gpu_model(args: argparse.Namespace):
    from llm.synthetic import build_random

    return build_random(args.shape, device="cuda", dtype=torch.bfloat16, quant=args.quant,
                        lora_r=args.lora_r, merge=args.merge is not False)


def make_prompts(n: int, length: int, vocab: int, seed: int = 0) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    return [[1] + torch.randint(4, vocab, (length - 1,), generator=g).tolist() for _ in range(n)]


# -- runs ------------------------------------------------------------------------------------
def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_hf(loaded, prompts: list[list[int]], new_tokens: int, batch: int) -> dict:
    """Plain ``generate``: greedy, ``batch`` prompts at a time (all the same length: no padding)."""
    model, pad = loaded.model, loaded.tokenizer.pad_token_id
    outputs, latencies = [], []
    sync(loaded.device)
    start, cpu0 = time.perf_counter(), time.process_time()
    with torch.inference_mode():
        for i in range(0, len(prompts), batch):
            ids = torch.tensor(prompts[i:i + batch], device=loaded.device)
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                 max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                 do_sample=False, pad_token_id=pad)
            sync(loaded.device)
            latencies += [time.perf_counter() - start] * len(ids)  # as if all were queued at t=0
            outputs += out[:, ids.shape[1]:].tolist()
    return summarize("hf_generate", time.perf_counter() - start, latencies, len(prompts) * new_tokens,
                     outputs=outputs, cpu_s=time.process_time() - cpu0)


def run_engine(loaded, prompts: list[list[int]], new_tokens: int, max_batch: int,
               max_prefill_tokens: int, threads: int = 0) -> dict:
    from llm.engine import Engine

    engine = Engine(loaded, max_batch=max_batch, max_prefill_tokens=max_prefill_tokens,
                    default_max_new_tokens=new_tokens, cpu_threads=threads)
    try:
        engine.generate(prompts[0][:16], max_new_tokens=2, ignore_eos=True)  # warm-up
        before = dict(engine.stats)
        sync(loaded.device)
        start, cpu0 = time.perf_counter(), time.process_time()
        futures = [engine.submit(p, max_new_tokens=new_tokens, ignore_eos=True, request_id=f"b{i}")
                   for i, p in enumerate(prompts)]
        results = [f.result() for f in futures]
        wall, cpu_s = time.perf_counter() - start, time.process_time() - cpu0
        steps = engine.stats["steps"] - before["steps"]
        rows = engine.stats["batch_rows"] - before["batch_rows"]
    finally:
        engine.shutdown()
    return summarize("engine", wall, [r.total_seconds for r in results],
                     sum(r.completion_tokens for r in results), outputs=[r.token_ids for r in results],
                     cpu_s=cpu_s,
                     extra={"steps": steps, "mean_batch": round(rows / max(steps, 1), 1),
                            "threads": engine.threads})


def run_hf_cb(loaded, prompts: list[list[int]], new_tokens: int, max_batch: int) -> dict:
    """transformers' built-in continuous batching (paged KV cache), for comparison."""
    from transformers import GenerationConfig
    from transformers.generation.configuration_utils import ContinuousBatchingConfig

    config = GenerationConfig(max_new_tokens=new_tokens, do_sample=False, eos_token_id=-1,
                              pad_token_id=loaded.tokenizer.pad_token_id)
    cb_config = ContinuousBatchingConfig(max_requests_per_batch=max_batch)
    loaded.model.generate_batch([prompts[0][:16]], generation_config=config,
                                continuous_batching_config=cb_config)  # warm-up
    sync(loaded.device)
    start, cpu0 = time.perf_counter(), time.process_time()
    out = loaded.model.generate_batch(prompts, generation_config=config,
                                      continuous_batching_config=cb_config)
    wall, cpu_s = time.perf_counter() - start, time.process_time() - cpu0
    outputs = [list(o.generated_tokens) for o in out.values()]
    return summarize("hf_cb", wall, [wall] * len(prompts), sum(len(o) for o in outputs),
                     outputs=outputs, cpu_s=cpu_s)


def summarize(name: str, wall: float, latencies: list[float], tokens: int, *, outputs=None,
              cpu_s: float = 0.0, extra: dict | None = None) -> dict:
    """Wall-clock figures, plus tokens per CPU-second of this process: on a shared machine the
    wall clock includes other people's load, the process CPU time much less so."""
    lat = sorted(latencies)
    return {
        "name": name, "requests": len(latencies), "wall_s": round(wall, 2),
        "tokens_per_s": round(tokens / wall, 1), "cpu_s": round(cpu_s, 1),
        "tokens_per_cpu_s": round(tokens / cpu_s, 2) if cpu_s else None, "jobs_per_min": round(len(latencies) / wall * 60, 1),
        "p50_s": round(statistics.median(lat), 2), "p95_s": round(lat[int(0.95 * (len(lat) - 1))], 2),
        **(extra or {}), "_outputs": outputs,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    gpu = args.device == "cuda"
    if gpu and not torch.cuda.is_available():
        print("bench/llm_engine.py: --device cuda but no CUDA device is available; skipping.")
        return 0
    args.shape = args.shape or ("7b" if gpu else "small")
    if gpu and args.shape not in ("7b", "33b") or not gpu and args.shape not in ("tiny", "small"):
        print(f"--shape {args.shape} is not a {args.device} shape", file=sys.stderr)
        return 2
    if not gpu and args.quant != "none":
        print("--quant needs --device cuda", file=sys.stderr)
        return 2
    prompt_tokens = args.prompt_tokens or (512 if gpu else 256)
    new_tokens = args.new_tokens or (128 if gpu else 32)
    max_batch = args.max_batch or (256 if gpu else args.n)
    max_prefill = args.max_prefill_tokens or (16384 if gpu else 2048)
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory(prefix="mindq-bench-") as tmp:
        t0 = time.perf_counter()
        loaded = load_gpu_model(args) if gpu else load_cpu_model(args, Path(tmp))
        load_s = time.perf_counter() - t0
        vocab = loaded.model.config.vocab_size
        prompts = make_prompts(args.n, prompt_tokens, vocab)
        engine = run_engine(loaded, prompts, new_tokens, max_batch, max_prefill, args.threads or 0)
        memory = loaded.describe() if gpu else {"device": "cpu"}
        hf_cb = run_hf_cb(loaded, prompts, new_tokens, max_batch) if args.hf_cb else None
        baseline = None
        if not args.skip_baseline:
            base_prompts = prompts[: args.baseline_n or args.n]
            run_hf(loaded, [base_prompts[0][:16]], 2, 1)  # warm-up
            baseline = run_hf(loaded, base_prompts, new_tokens, args.baseline_batch)

    same = None
    if baseline:
        pairs = list(zip(engine["_outputs"], baseline["_outputs"], strict=False))  # a baseline may run fewer
        same = sum(a == b for a, b in pairs)
    for run in (engine, baseline, hf_cb):
        if run:
            run.pop("_outputs")
    report = {
        "device": memory.get("name", args.device), "shape": args.shape, "quant": args.quant,
        "dtype": loaded.dtype, "lora_r": args.lora_r, "merged": loaded.merged,
        "params_m": round(loaded.info["parameters"] / 1e6, 1), "threads": torch.get_num_threads(),
        "n": args.n, "prompt_tokens": prompt_tokens, "new_tokens": new_tokens,
        "max_batch": max_batch, "load_s": round(load_s, 1), "engine": engine, "hf": baseline, "hf_cb": hf_cb,
        "ratio_tokens_per_s": round(engine["tokens_per_s"] / baseline["tokens_per_s"], 2) if baseline else None,
        "ratio_tokens_per_cpu_s": round(engine["tokens_per_cpu_s"] / baseline["tokens_per_cpu_s"], 2)
        if baseline and not gpu else None,
        "identical_outputs": same,
        "gpu_memory_used_gib": round(memory["memory_used"] / 2**30, 1) if "memory_used" in memory else None,
    }
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"model: {args.shape} ({report['params_m']}M params, {loaded.dtype}, quant={args.quant}, "
          f"LoRA r={args.lora_r}, merged={loaded.merged}) on {report['device']}, threads={report['threads']}")
    print(f"workload: {args.n} requests x {prompt_tokens} prompt tokens, {new_tokens} new tokens")
    for run in (engine, hf_cb, baseline):
        if run:
            print(f"  {run['name']:<12} {run['tokens_per_s']:>9.1f} tok/s {run['jobs_per_min']:>9.1f} jobs/min "
                  f"p50 {run['p50_s']:.2f}s p95 {run['p95_s']:.2f}s wall {run['wall_s']:.1f}s "
                  f"cpu {run['cpu_s']:.1f}s ({run['tokens_per_cpu_s']} tok/cpu-s)"
                  + (f" (mean batch {run['mean_batch']})" if "mean_batch" in run else ""))
    if baseline:
        label = "one by one" if args.baseline_batch == 1 else f"batch {args.baseline_batch}"
        print(f"  engine / HF generate ({label}): {report['ratio_tokens_per_s']}x tokens/s"
              + (f", {report['ratio_tokens_per_cpu_s']}x tokens/cpu-s" if report['ratio_tokens_per_cpu_s'] else "")
              + (f"; identical greedy outputs {same}/{len(baseline and prompts[: args.baseline_n or args.n])}"
                 if same is not None else ""))
    if hf_cb and baseline:
        print(f"  transformers generate_batch / HF generate: "
              f"{round(hf_cb['tokens_per_s'] / baseline['tokens_per_s'], 2)}x tokens/s")
    if report["gpu_memory_used_gib"] is not None:
        print(f"  GPU memory used: {report['gpu_memory_used_gib']} GiB")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
