"""Model runner: owns the model, the KV cache and per-request decoding state.

TGI-style continuous batching on plain transformers: the running batch is one left-padded
``DynamicCache``. New requests are prefilled together (left-padded among themselves) and then
concatenated into the running batch (the shorter cache is left-padded with masked zeros);
finished requests are filtered out by row, and cache columns that became padding for every
remaining row are trimmed. Keys are stored after RoPE with each row's own positions, so moving
a row's cache to the right (more left padding) does not change what it attends to: a prompt's
greedy output does not depend on its batch mates.

The runner never sees the queue: the engine tells it which requests to prefill and which to
release.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from transformers import DynamicCache
from transformers.cache_utils import Cache, DynamicLayer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrefillInput:
    request_id: str
    input_ids: list[int]
    max_new_tokens: int  # reserves cache room so decode steps write in place


class _ReservedLayer(DynamicLayer):
    """A DynamicLayer whose keys/values are views into a buffer with room to grow.

    ``DynamicLayer`` concatenates the whole cache on every decode step (a full copy of the
    batch's KV per token); here a step writes only the new column. The buffer is sized for the
    batch's remaining tokens when it is (re)built, so it rarely grows.
    """

    def __init__(self, reserve: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.reserve = reserve
        self._kbuf: torch.Tensor | None = None
        self._vbuf: torch.Tensor | None = None
        self._len = 0

    def update(self, key_states, value_states, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        if self._kbuf is None:
            self.assign(key_states, value_states, self.reserve)
            return self.keys, self.values
        n = key_states.shape[-2]
        if self._len + n > self._kbuf.shape[-2]:
            self.assign(self.keys, self.values, max(n, self._len))  # amortised doubling
        self._kbuf[:, :, self._len:self._len + n] = key_states
        self._vbuf[:, :, self._len:self._len + n] = value_states
        self._len += n
        self._expose()
        return self.keys, self.values

    def assign(self, keys: torch.Tensor, values: torch.Tensor, reserve: int) -> None:
        """Replace the contents with ``keys``/``values``, leaving room for ``reserve`` tokens."""
        b, h, t, d = keys.shape
        self._kbuf = keys.new_empty((b, h, t + reserve, d))
        self._vbuf = values.new_empty((b, h, t + reserve, values.shape[-1]))
        self._kbuf[:, :, :t] = keys
        self._vbuf[:, :, :t] = values
        self._len = t
        self.is_initialized = True
        self.dtype, self.device = keys.dtype, keys.device
        self._expose()

    def _expose(self) -> None:
        self.keys = self._kbuf[:, :, :self._len]
        self.values = self._vbuf[:, :, :self._len]


class _ReservedCache(DynamicCache):
    def __init__(self, reserve: int) -> None:
        Cache.__init__(self, layer_class_to_replicate=lambda: _ReservedLayer(reserve))


class _Batch:
    """The running batch: row order, cache, attention mask and per-row positions."""

    def __init__(self, ids: list[str], cache: DynamicCache, mask: torch.Tensor,
                 positions: torch.Tensor, last_tokens: torch.Tensor, remaining: list[int]) -> None:
        self.ids = ids
        self.cache = cache
        self.mask = mask  # [B, T] 1 for real tokens, 0 for left padding
        self.positions = positions  # [B] position id of each row's next token
        self.last_tokens = last_tokens  # [B] token to feed at the next decode step
        self.remaining = remaining  # decode steps each row may still need (cache room)

    def __len__(self) -> int:
        return len(self.ids)

    def rebuild_cache(self, layers_kv: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Copy new cache contents into fresh buffers with room for the remaining steps."""
        reserve = max(self.remaining, default=0)
        cache = _ReservedCache(reserve)
        for k, v in layers_kv:
            layer = _ReservedLayer(reserve)
            layer.assign(k, v, reserve)
            cache.layers.append(layer)
        self.cache = cache


def _pad_left(t: torch.Tensor, length: int, dim: int) -> torch.Tensor:
    missing = length - t.shape[dim]
    if missing <= 0:
        return t
    shape = list(t.shape)
    shape[dim] = missing
    return torch.cat([t.new_zeros(shape), t], dim=dim)


class ModelRunner:
    def __init__(self, model: torch.nn.Module, *, pad_token_id: int, device: str | torch.device) -> None:
        self.model = model
        self.pad_token_id = pad_token_id
        self.device = torch.device(device)
        self._batch: _Batch | None = None

    @property
    def running_ids(self) -> list[str]:
        return list(self._batch.ids) if self._batch else []

    @property
    def cache_length(self) -> int:
        return self._batch.mask.shape[1] if self._batch else 0

    # -- forward passes ----------------------------------------------------------------------
    @torch.inference_mode()
    def prefill(self, inputs: list[PrefillInput]) -> dict[str, int]:
        """Run the prompts of newly admitted requests, join them to the batch, return each one's
        first generated token (greedy)."""
        if not inputs:
            return {}
        longest = max(len(i.input_ids) for i in inputs)
        ids = torch.full((len(inputs), longest), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(inputs), longest), dtype=torch.long)
        for row, item in enumerate(inputs):
            n = len(item.input_ids)
            ids[row, longest - n:] = torch.tensor(item.input_ids, dtype=torch.long)
            mask[row, longest - n:] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        # Left padding: each row's first real token has position 0 (padding gets a dummy 1).
        positions = (mask.cumsum(-1) - 1).clamp(min=0).masked_fill(mask == 0, 1)
        remaining = [i.max_new_tokens - 1 for i in inputs]
        cache = _ReservedCache(max(remaining) if self._batch is None else 0)
        logits = self._forward(ids, mask, positions, cache)
        next_tokens = self._sample(logits)
        new = _Batch([i.request_id for i in inputs], cache, mask, mask.sum(-1), next_tokens,
                     remaining)
        self._batch = new if self._batch is None else self._concatenate(self._batch, new)
        return dict(zip(new.ids, next_tokens.tolist()))

    @torch.inference_mode()
    def decode(self) -> dict[str, int]:
        """One decode step for every running request; returns each one's next token."""
        b = self._batch
        if b is None:
            return {}
        b.mask = torch.cat([b.mask, b.mask.new_ones((len(b), 1))], dim=1)
        logits = self._forward(b.last_tokens[:, None], b.mask, b.positions[:, None], b.cache)
        b.positions = b.positions + 1
        b.remaining = [r - 1 for r in b.remaining]
        b.last_tokens = self._sample(logits)
        return dict(zip(b.ids, b.last_tokens.tolist()))

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor,
                 cache: DynamicCache) -> torch.Tensor:
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                         past_key_values=cache, use_cache=True, logits_to_keep=1)
        return out.logits[:, -1, :]

    @staticmethod
    def _sample(logits: torch.Tensor) -> torch.Tensor:
        # Greedy: deterministic and the only mode MentaLLaMA's evaluation uses.
        return logits.argmax(dim=-1)

    # -- batch bookkeeping -------------------------------------------------------------------
    def release(self, request_ids: list[str]) -> None:
        """Drop finished/aborted requests from the batch and trim all-padding cache columns."""
        b = self._batch
        if b is None or not request_ids:
            return
        gone = set(request_ids)
        keep = [row for row, rid in enumerate(b.ids) if rid not in gone]
        if not keep:
            self._batch = None
            return
        if len(keep) == len(b):
            return
        index = torch.tensor(keep, device=b.mask.device)
        b.ids = [b.ids[row] for row in keep]
        b.remaining = [b.remaining[row] for row in keep]
        b.mask = b.mask.index_select(0, index)
        b.positions = b.positions.index_select(0, index)
        b.last_tokens = b.last_tokens.index_select(0, index)
        # Columns that are padding for every remaining row can go.
        start = int((b.mask.sum(0) > 0).nonzero()[0])
        b.mask = b.mask[:, start:]
        b.rebuild_cache([(layer.keys.index_select(0, index)[:, :, start:],
                          layer.values.index_select(0, index)[:, :, start:])
                         for layer in b.cache.layers])

    def reset(self) -> None:
        """Forget every request (after a failed forward)."""
        self._batch = None

    @staticmethod
    def _concatenate(a: _Batch, b: _Batch) -> _Batch:
        length = max(a.mask.shape[1], b.mask.shape[1])
        a.ids = a.ids + b.ids
        a.remaining = a.remaining + b.remaining
        a.mask = torch.cat([_pad_left(a.mask, length, 1), _pad_left(b.mask, length, 1)], 0)
        a.positions = torch.cat([a.positions, b.positions])
        a.last_tokens = torch.cat([a.last_tokens, b.last_tokens])
        a.rebuild_cache([
            (torch.cat([_pad_left(la.keys, length, 2), _pad_left(lb.keys, length, 2)], 0),
             torch.cat([_pad_left(la.values, length, 2), _pad_left(lb.values, length, 2)], 0))
            for la, lb in zip(a.cache.layers, b.cache.layers)])
        return a
