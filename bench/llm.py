"""LLM jobs through the whole platform vs plain HF ``generate`` one by one, in the same run.

API → PostgreSQL → Redis → gpu worker (CPU fallback here: threads pool + batching engine) →
PostgreSQL, with N `imhi.dr` jobs whose full prompts are --prompt-tokens long, all submitted at
once, --new-tokens each. The baseline loads the same model with the same loader in this process
and runs the same rendered prompts through ``model.generate`` one at a time. Both decode
greedily and stop at EOS or the token budget, so both produce the same tokens; the ratio is
wall time baseline / wall time platform.

CPU (every session):   .venv/bin/python -m bench.llm                 # 64 jobs, 256 + 32 tokens
GPU (when lent one):   .venv/bin/python -m bench.llm --shape 7b --dtype bf16 --prompt-tokens 512 \\
                           --new-tokens 128 --jobs 512 --max-batch 128 --baseline-jobs 16
(the 7b shape is a random Llama-2-7B written to disk once; 33B does not fit the device disk:
bench/llm_engine.py builds it in GPU memory for the engine-level figure)

A/B of the CPU engine's thread count in one run (same prompts, same baseline, a fresh stack each):
    .venv/bin/python -m bench.llm --engine-threads 2,0 --baseline-jobs 8   # 0: the engine's default
--baseline-threads sets the baseline's torch threads (default: torch's, as a user would run it).

Also in the same run, the reference the issue named: HF ``generate`` on static batches of
--max-batch of the same prompts (--static-jobs 0 skips it). Run on a quiet machine: a baseline
slowed by other work inflates every ratio (a helper's work beside it once turned 1.7x into 4x).
"""
from __future__ import annotations

# first: this folder holds platform.py, which would shadow the standard library's `platform`
import argparse
import random
import sys
import threading
import time
from pathlib import Path

from bench.harness import percentile, stack, start, wait_http, wait_worker
from mindq.client import Client

JOB_TYPE = "imhi.dr"
WORDS = ("sleep tired hopeless work family worry anxious panic friends alone lost empty sad angry calm "
         "better worse doctor therapy week month night morning appetite energy focus guilt shame").split()


def build_model(shape: str, model_dir: Path) -> tuple[Path, Path]:
    if (model_dir / "base" / "config.json").is_file():
        return model_dir / "base", model_dir / "adapter"
    if shape in ("tiny", "small"):
        from llm.tiny import build_tiny

        return build_tiny(model_dir, size=shape)
    return save_random(shape, model_dir)


def save_random(shape: str, model_dir: Path, lora_r: int = 8) -> tuple[Path, Path]:
    """A random model at a real LLaMA shape, saved like the real one (bf16 safetensors, a trained
    tokenizer, a PEFT LoRA on the attention projections), so the worker loads it with the
    production loader. Built on the GPU when there is one; 7B takes ~13 GB of disk."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    from llm.synthetic import LLAMA_SHAPES
    from llm.tiny import train_tokenizer

    dims = dict(LLAMA_SHAPES[shape])
    tokenizer = train_tokenizer(dims["vocab_size"])
    dims["vocab_size"] = len(tokenizer)
    config = LlamaConfig(**dims, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.device(device):
        model = LlamaForCausalLM(config).to(torch.bfloat16).eval()
    base, adapter = model_dir / "base", model_dir / "adapter"
    model.save_pretrained(base, safe_serialization=True)
    tokenizer.save_pretrained(base)
    peft_model = get_peft_model(model, LoraConfig(r=lora_r, lora_alpha=2 * lora_r, task_type="CAUSAL_LM",
                                                  target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]))
    peft_model.save_pretrained(adapter)
    return base, adapter


def job_prompt(scrub, text: str) -> str:
    """What the worker runs for a job: the scrubbed text in the job type's template."""
    import prompts

    return prompts.render(JOB_TYPE, scrub.scrub(text).text)


def make_texts(n: int, prompt_tokens: int, tokenizer) -> list[str]:
    """Texts whose scrubbed, rendered prompt is ``prompt_tokens`` long (what the worker will run)."""
    from phi import Scrubber

    scrub, rng, texts = Scrubber(), random.Random(0), []
    for i in range(n):
        words = [f"entry{i}"]
        while True:
            text = " ".join(words)
            length = len(tokenizer(job_prompt(scrub, text))["input_ids"])
            if length >= prompt_tokens:
                break
            words += rng.choices(WORDS, k=max(1, (prompt_tokens - length) // 3))
        texts.append(text)
    return texts


def baseline(loaded, texts: list[str], new_tokens: int) -> dict:
    import torch

    from phi import Scrubber

    scrub = Scrubber()
    model, tok = loaded.model, loaded.tokenizer
    done_tokens, t0 = 0, time.perf_counter()
    with torch.inference_mode():
        for text in texts:
            ids = tok(job_prompt(scrub, text), return_tensors="pt").to(loaded.device)
            out = model.generate(**ids, max_new_tokens=new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id)
            done_tokens += out.shape[1] - ids["input_ids"].shape[1]
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "tokens": done_tokens, "jobs": len(texts)}


def static_batches(loaded, texts: list[str], new_tokens: int, batch: int) -> dict:
    """The reference the engine has to match: plain HF ``generate`` on whole batches of the same
    prompts (left-padded, greedy), the way a data team would run them offline."""
    import torch

    from phi import Scrubber

    scrub = Scrubber()
    model, tok = loaded.model, loaded.tokenizer
    side, tok.padding_side = tok.padding_side, "left"
    done_tokens, t0 = 0, time.perf_counter()
    try:
        with torch.inference_mode():
            for i in range(0, len(texts), batch):
                rendered = [job_prompt(scrub, t) for t in texts[i:i + batch]]
                enc = tok(rendered, return_tensors="pt", padding=True).to(loaded.device)
                out = model.generate(**enc, max_new_tokens=new_tokens, do_sample=False,
                                     pad_token_id=tok.pad_token_id)
                new = out[:, enc["input_ids"].shape[1]:]
                done_tokens += int((new != tok.pad_token_id).sum())
    finally:
        tok.padding_side = side
    return {"wall_s": time.perf_counter() - t0, "tokens": done_tokens, "jobs": len(texts)}


def through_platform(api: str, key: str, texts: list[str], new_tokens: int) -> dict:
    import sqlalchemy as sa

    from jobstore import runtime
    from jobstore.tables import jobs

    ids: list[str] = []
    lock = threading.Lock()

    def submit(chunk: list[str]) -> None:
        with Client(api, key, timeout=60) as mq:
            for text in chunk:
                job = mq.submit(JOB_TYPE, text, options={"max_new_tokens": new_tokens})
                with lock:
                    ids.append(job.id)

    t0 = time.perf_counter()
    chunks = [texts[i::8] for i in range(8)]
    threads = [threading.Thread(target=submit, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    while True:
        with runtime.db().connect() as conn:
            left = conn.execute(sa.select(sa.func.count()).select_from(jobs).where(
                jobs.c.id.in_(ids), jobs.c.state.in_(("queued", "running")))).scalar_one()
        if not left:
            break
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    svc = runtime.job_reads()
    with runtime.db().connect() as conn:
        rows = conn.execute(sa.select(jobs).where(jobs.c.id.in_(ids))).all()
    latencies = [(r.finished_at - r.created_at).total_seconds() for r in rows]
    waits = [(r.started_at - r.created_at).total_seconds() for r in rows if r.started_at]
    results = [svc.result(r.id) for r in rows if r.state == "succeeded"]
    tokens = sum(res["usage"]["completion_tokens"] for res in results)
    return {"wall_s": wall, "tokens": tokens, "jobs": len(ids), "succeeded": len(results),
            "cached": sum(bool(res.get("cached")) for res in results),
            "p50_s": percentile(latencies, 50), "p95_s": percentile(latencies, 95),
            "wait_p50_s": percentile(waits, 50), "wait_max_s": max(waits, default=0.0)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", default="small", help="tiny | small (CPU) | 7b (GPU)")
    ap.add_argument("--jobs", type=int, default=64)
    ap.add_argument("--baseline-jobs", type=int, default=None, help="default: all (one by one)")
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--max-batch", type=int, default=64)
    ap.add_argument("--dtype", default="fp32")
    ap.add_argument("--quant", default="none")
    ap.add_argument("--model-dir", type=Path, default=Path(".mindq/bench-models"))
    ap.add_argument("--engine-threads", default="0",
                    help="MODEL_CPU_THREADS for the worker; a comma list runs the platform once per value")
    ap.add_argument("--baseline-threads", type=int, default=0, help="torch threads for the baseline (0: default)")
    ap.add_argument("--static-jobs", type=int, default=None,
                    help="jobs for the HF static-batching reference (default: all; 0: skip it)")
    args = ap.parse_args()

    from core.config import ModelSettings
    from llm.loader import load_model

    base, adapter = build_model(args.shape, args.model_dir / args.shape)
    settings = ModelSettings(base_path=base, adapter_path=adapter, dtype=args.dtype, quant=args.quant)
    loaded = load_model(settings)
    texts = make_texts(args.jobs, args.prompt_tokens, loaded.tokenizer)
    n_base = args.baseline_jobs or args.jobs
    import torch

    if args.baseline_threads:
        torch.set_num_threads(args.baseline_threads)
    base_threads = torch.get_num_threads()
    base_res = baseline(loaded, texts[:n_base], args.new_tokens)
    base_per_job = base_res["wall_s"] / n_base
    n_static = args.jobs if args.static_jobs is None else args.static_jobs
    static_res = static_batches(loaded, texts[:n_static], args.new_tokens, args.max_batch) if n_static else None
    del loaded
    print(f"model {args.shape} ({args.dtype}, quant {args.quant}), {args.jobs} jobs of {args.prompt_tokens} "
          f"prompt tokens, up to {args.new_tokens} new")
    print(f"HF generate one by one: {n_base} jobs in {base_res['wall_s']:.1f} s = {60 / base_per_job:.1f} jobs/min, "
          f"{base_res['tokens'] / base_res['wall_s']:.1f} tokens/s (torch threads {base_threads})", flush=True)
    if static_res:
        static_per_job = static_res["wall_s"] / n_static
        print(f"HF generate in static batches of {args.max_batch} (the reference): {n_static} jobs in "
              f"{static_res['wall_s']:.1f} s = {60 / static_per_job:.1f} jobs/min, ratio to one by one "
              f"{base_per_job / static_per_job:.2f}x", flush=True)
    for threads in args.engine_threads.split(","):
        env = {"MODEL_BASE_PATH": str(base), "MODEL_ADAPTER_PATH": str(adapter), "MODEL_DTYPE": args.dtype,
               "MODEL_QUANT": args.quant, "MODEL_MAX_BATCH": str(args.max_batch), "MINDQ_GPUS": "auto",
               "MODEL_CPU_THREADS": threads.strip(),
               # a loaded shared machine must slow the run down, not fail its jobs
               "MINDQ_TASK_TIME_LIMIT": "7200"}
        with stack(web_workers=1, extra_env=env) as ctx:
            start(ctx, "worker", "gpu", log="worker-gpu")
            start(ctx, "web", log="web")
            wait_http(ctx["api"] + "/health/live")
            wait_worker("", 300)
            res = through_platform(ctx["api"], ctx["key"], texts, args.new_tokens)
            time.sleep(6)  # one more worker heartbeat, carrying the engine's counters
            from jobstore import runtime
            from jobstore.workers import live_workers

            engine_stats = [w.get("engine") for w in live_workers(runtime.redis_client()) if w.get("engine")]
        plat_per_job = res["wall_s"] / res["jobs"]
        print(f"through the platform (MODEL_CPU_THREADS={threads.strip()}): {res['succeeded']}/{res['jobs']} "
              f"succeeded (cached {res['cached']}) in "
              f"{res['wall_s']:.1f} s = {60 / plat_per_job:.1f} jobs/min, {res['tokens'] / res['wall_s']:.1f} tokens/s, "
              f"job latency p50 {res['p50_s']:.1f} s p95 {res['p95_s']:.1f} s, "
              f"queued until claimed p50 {res['wait_p50_s']:.1f} s max {res['wait_max_s']:.1f} s")
        print(f"ratio platform / HF generate (jobs per unit time): {base_per_job / plat_per_job:.2f}x", flush=True)
        if static_res:
            print(f"platform / HF static batches: {static_per_job / plat_per_job:.2f}x", flush=True)
        for stats in engine_stats:
            print(f"engine counters: {stats}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
