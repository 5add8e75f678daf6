"""The LLM analysis handler: scrub → render (token-aware fit) → cached? → engine → parse.

Only scrubbed text reaches the prompt, the cache key or the model. The result cache is keyed by
a hash of the rendered prompt (which holds the scrubbed text, the type's fields and template),
the provenance (model, prompt, parser and scrubber versions: tasks.provenance) and the generation
budget, and stores ciphertext.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import logging
from typing import cast

import redis

from core import config
from core.errors import ErrorCode
from jobstore import runtime
from tasks import provenance
from tasks.contract import JobCancelled, JobContext, JobError, Outcome
from tasks.scrubbing import scrubber

log = logging.getLogger("mindq.analysis")

CACHE_TTL_S = 7 * 24 * 3600


def cache_key(prompt: str, versions: dict[str, str], max_new_tokens: int) -> str:
    parts = [versions[k] for k in provenance.KEYS] + [str(max_new_tokens), prompt]
    digest = hashlib.sha256("\x1f".join(parts).encode())
    return f"mindq:cache:{digest.hexdigest()}"


def _cache_get(key: str) -> dict | None:
    try:
        raw = cast(bytes | None, runtime.redis_client().get(key))
        return runtime.cipher().decrypt_json(raw) if raw else None
    except (redis.RedisError, ValueError):
        return None  # a cache miss is always safe


def _cache_put(key: str, value: dict) -> None:
    try:
        runtime.redis_client().set(key, runtime.cipher().encrypt_json(value), ex=CACHE_TTL_S)
    except redis.RedisError:
        pass


def handle_analysis(ctx: JobContext) -> Outcome:
    import prompts
    from llm.engine import RequestCancelled
    from llm.truncation import PromptTooLongError
    from tasks import serving

    spec = prompts.get_type(ctx.type)
    engine = serving.engine()
    ctx.stage("scrubbing", 5)
    text = scrubber().scrub(ctx.payload["text"]).text
    # render fields come from the type's choices only: free text never arrives through options
    fields = {c.name: ctx.options[c.name] for c in spec.choices if c.name in ctx.options}
    if "previous_text" in spec.inputs:
        fields["previous_text"] = scrubber().scrub(ctx.payload["previous_text"]).text
    max_new = int(ctx.options.get("max_new_tokens") or spec.max_new_tokens)
    max_new = max(1, min(max_new, config.settings().model.max_new_tokens * 4))
    try:
        fitted = engine.fit(text, lambda t: prompts.render(ctx.type, t, **fields), max_new_tokens=max_new,
                            policy=str(ctx.options.get("truncation", "head_tail")))
    except PromptTooLongError:
        raise JobError(ErrorCode.INPUT_TOO_LONG, "the input cannot fit the model's context") from None
    except prompts.PromptError as exc:  # its messages name option values, never the text
        raise JobError(ErrorCode.INVALID_OPTION, f"invalid analysis options: {exc}") from None
    except ValueError:  # anything else (e.g. a tokenizer's message) may quote the text
        raise JobError(ErrorCode.INVALID_OPTION, "the analysis options could not be applied") from None
    version = spec.version
    versions = provenance.current_versions(ctx.type, engine.model_id)
    card = provenance.served_card()
    key = cache_key(fitted.prompt, versions, max_new)
    cached = _cache_get(key)
    if cached is not None:
        return Outcome({**cached, "cached": True}, model_id=engine.model_id, prompt_version=version)

    ctx.stage("inference", 15, prompt_tokens=fitted.prompt_tokens, max_tokens=max_new)

    def on_progress(done: int, total: int) -> None:
        ctx.progress_event("inference", 15 + int(75 * done / max(total, 1)), tokens=done, max_tokens=total)

    # per attempt: a redelivered job may reach this process while its stale attempt still decodes
    request_id = f"{ctx.id}:{ctx.attempt}"
    future = engine.submit(fitted.prompt, max_new_tokens=max_new, priority=ctx.priority,
                           on_progress=on_progress, request_id=request_id, truncated=fitted.truncated)
    generation = _wait(ctx, engine, future, request_id, RequestCancelled)
    ctx.stage("parsing", 92)
    parsed = prompts.parse(ctx.type, generation.text)
    result = {**parsed, **versions, "model_id": generation.model_id,
              # a demo model says whether it was trained for this type at all
              "model_trained_for_type": card.trained_for(ctx.type),
              "finish_reason": generation.finish_reason, "truncated": generation.truncated,
              "usage": {"prompt_tokens": generation.prompt_tokens,
                        "completion_tokens": generation.completion_tokens}}
    _cache_put(key, result)
    return Outcome({**result, "cached": False}, model_id=generation.model_id, prompt_version=version)


def _wait(ctx: JobContext, engine, future: concurrent.futures.Future, request_id: str, cancelled_exc):
    """Wait for the generation. A cancel reaches the engine through the lease thread
    (ctx.on_cancel), which frees the batch slot; the future then fails with RequestCancelled."""
    ctx.on_cancel(lambda: engine.cancel(request_id))
    limit = config.settings().task_time_limit
    try:
        return future.result(timeout=limit)
    except concurrent.futures.TimeoutError:
        engine.cancel(request_id)
        raise JobError(ErrorCode.INFERENCE_TIMEOUT, f"generation did not finish within {limit}s") from None
    except cancelled_exc:
        raise JobCancelled(ctx.id) from None
