"""MentaLLaMA serving: model building/loading, a batching engine and GPU pinning helpers.

Pure torch/transformers/peft: nothing here imports Celery, Flask, Redis or SQL, so the Celery
worker wraps it and the tests drive it directly. This package init imports nothing (the
scheduler must stay torch-free, and a GPU parent must not touch CUDA before forking).

What a GPU worker process uses::

    from llm.engine import Engine, GenerationResult   # engine.submit(...) -> Future
    from llm.loader import ModelLoadError              # start failure, one-line message
    from llm.truncation import PromptTooLongError      # template alone too long
    from llm.gpu import visible_gpus, pin_env, device_report
    from llm.tiny import build_tiny                    # `mindq model build-tiny DIR`

Modules: ``tiny`` (build the tiny/small model), ``loader`` (load_model, LoadedModel),
``scheduler`` (admission, no torch), ``runner`` (model + slot KV cache), ``engine`` (the loop),
``truncation`` (fit_prompt), ``threads`` (the CPU team sized to the load), ``fp8`` (FP8 linears),
``synthetic`` (random 7B/33B for benchmarks),
``gpu`` (pinning).
"""
