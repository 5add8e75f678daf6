"""Model runner: owns the model, the KV cache and per-request decoding state.

Continuous batching on plain transformers with a slot cache: the running batch is a set of rows
(slots) in one preallocated, left-padded KV buffer per layer, ``[rows, heads, columns, dim]``.

- A decode step writes one new column for every row in place (no per-token copy of the cache,
  unlike ``DynamicCache``'s concatenation).
- New requests are prefilled together (left-padded among themselves, in a fresh cache) and
  their KV is copied into free rows, right-aligned at the current column; nothing else moves.
- A finished request's row is just marked free (masked out) and reused by the next newcomer;
  the buffer is compacted only when many rows are free or the left padding grows large.

Keys are stored after RoPE with each row's own positions, so where a row sits in the buffer does
not change what it attends to: a prompt's greedy output does not depend on its batch mates. Free
rows still run through the model (their mask lets them see only their own dummy token, so they
stay finite) until they are reused or compacted away.

The runner never sees the queue: the engine tells it which requests to prefill and which to
release.
"""
from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import cast

import torch
from transformers import DynamicCache
from transformers.cache_utils import Cache, CacheLayerMixin, DynamicLayer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrefillInput:
    request_id: str
    input_ids: list[int]
    max_new_tokens: int  # the cache reserves room for it


class _SlotLayer(DynamicLayer):
    """One layer's KV buffer; ``update`` writes the step's columns at the shared write column."""

    dtype: torch.dtype  # set by ``_SlotCache.ensure`` with the buffers

    def __init__(self, owner: _SlotCache) -> None:
        super().__init__()
        self.owner = owner
        self.kbuf: torch.Tensor | None = None
        self.vbuf: torch.Tensor | None = None

    def update(self, key_states, value_states, *args, **kwargs):
        rows, col, n = self.owner.rows, self.owner.length, key_states.shape[-2]
        self.kbuf[:rows, :, col:col + n] = key_states
        self.vbuf[:rows, :, col:col + n] = value_states
        self.keys = self.kbuf[:rows, :, :col + n]
        self.values = self.vbuf[:rows, :, :col + n]
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self.owner.length

    @property
    def buffers(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(kbuf, vbuf), once ``_SlotCache.ensure`` has allocated them."""
        assert self.kbuf is not None and self.vbuf is not None, "slot buffers not allocated yet"
        return self.kbuf, self.vbuf


class _SlotCache(DynamicCache):
    """The per-layer buffers plus the geometry they share: rows in use and filled columns."""

    def __init__(self) -> None:
        Cache.__init__(self, layers=[])
        self.rows = 0  # rows in use (live or free) — the batch dimension of every forward
        self.length = 0  # filled columns; a decode step writes column ``length``

    @property
    def slot_layers(self) -> list[_SlotLayer]:
        """``layers``, typed: ``ensure`` fills it with _SlotLayers only."""
        return cast("list[_SlotLayer]", self.layers)

    @property
    def capacity(self) -> tuple[int, int]:
        first = self.slot_layers[0].kbuf if self.layers else None
        return (0, 0) if first is None else (first.shape[0], first.shape[2])

    def ensure(self, rows: int, columns: int, like: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Grow the buffers (doubling) to hold ``rows`` x ``columns``; copies only when growing."""
        cap_rows, cap_cols = self.capacity
        if rows <= cap_rows and columns <= cap_cols:
            return
        # Grow by half again (not double): at 33B scale the KV buffer is most of the free memory.
        new_rows = max(rows, cap_rows + cap_rows // 2) if rows > cap_rows else cap_rows
        new_cols = max(columns, cap_cols + cap_cols // 2) if columns > cap_cols else cap_cols
        if not self.layers:
            self.layers = [_SlotLayer(self) for _ in like]
        for layer, (k, v) in zip(self.slot_layers, like, strict=True):  # one layer at a time: small peak memory
            kb = k.new_zeros((new_rows, k.shape[1], new_cols, k.shape[3]))
            vb = v.new_zeros((new_rows, v.shape[1], new_cols, v.shape[3]))
            if layer.kbuf is not None and layer.vbuf is not None:  # allocated together
                kb[:cap_rows, :, :self.length] = layer.kbuf[:, :, :self.length]
                vb[:cap_rows, :, :self.length] = layer.vbuf[:, :, :self.length]
            layer.keys = layer.values = None  # drop views that would keep the old buffer alive
            layer.kbuf, layer.vbuf = kb, vb
            layer.is_initialized = True
            layer.dtype, layer.device = k.dtype, k.device

    def shift_columns(self, offset: int) -> None:
        """Move every row's filled columns by ``offset`` (right: > 0, left: < 0), in place."""
        if offset == 0:
            return
        if self.length == 0:  # nothing to move
            self.length = max(0, offset)
            return
        src = slice(max(0, -offset), self.length)
        dst = slice(max(0, offset), self.length + offset)
        for layer in self.slot_layers:
            for buf in layer.buffers:
                buf[:self.rows, :, dst] = buf[:self.rows, :, src].clone()  # one layer at a time
                if offset > 0:
                    buf[:self.rows, :, :offset] = 0
        self.length += offset

    def keep_rows(self, index: torch.Tensor) -> None:
        """Move the rows in ``index`` to the front, in place, and drop the rest."""
        for layer in self.slot_layers:
            for buf in layer.buffers:
                buf[:len(index), :, :self.length] = buf[index, :, :self.length]
        self.rows = len(index)


class ModelRunner:
    # Compact when at least this share of rows is free (they still cost compute every step) ...
    FREE_ROWS_COMPACT = 0.25
    # ... or when every live row has at least this many columns of left padding.
    PADDING_COMPACT = 64

    def __init__(self, model: torch.nn.Module, *, pad_token_id: int, device: str | torch.device) -> None:
        self.model = model
        self.pad_token_id = pad_token_id
        self.device = torch.device(device)
        self._cache_kwarg = _cache_kwarg(model)
        self._reset_state()

    def _reset_state(self) -> None:
        self.cache = _SlotCache()
        self.slots: list[str | None] = []  # request id per row, None: free
        self.mask = torch.zeros((0, 0), dtype=torch.long, device=self.device)  # [rows, length]
        self.positions = torch.zeros(0, dtype=torch.long, device=self.device)  # next position
        self.last_tokens = torch.zeros(0, dtype=torch.long, device=self.device)
        self.remaining: dict[str, int] = {}  # decode steps a request may still need

    @property
    def running_ids(self) -> list[str]:
        return [rid for rid in self.slots if rid is not None]

    @property
    def cache_length(self) -> int:
        return self.cache.length

    # -- forward passes ----------------------------------------------------------------------
    @torch.inference_mode()
    def decode(self) -> dict[str, int]:
        """One decode step for every running request; returns each one's next token."""
        if not self.remaining:
            return {}
        rows = len(self.slots)
        free = torch.tensor([rid is None for rid in self.slots], device=self.device)
        self._reserve_columns(1)
        # Free rows attend only to their own dummy token, so they stay finite.
        new_col = torch.ones((rows, 1), dtype=torch.long, device=self.device)
        self.mask = torch.cat([self.mask.masked_fill(free[:, None], 0), new_col], dim=1)
        self.cache.rows = rows
        logits = self._forward(self.last_tokens[:, None], self.mask,
                               self.positions[:, None], self.cache)
        self.cache.length += 1
        self.positions = self.positions + 1
        self.last_tokens = self._sample(logits)
        tokens = self.last_tokens.tolist()
        out = {}
        for row, rid in enumerate(self.slots):
            if rid is not None:
                out[rid] = tokens[row]
                self.remaining[rid] -= 1
        return out

    @torch.inference_mode()
    def prefill(self, inputs: list[PrefillInput]) -> dict[str, int]:
        """Run the prompts of newly admitted requests, put them into free rows, return each
        one's first generated token (greedy)."""
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
        fresh = DynamicCache()
        logits = self._forward(ids, mask, positions, fresh)
        first = self._sample(logits)
        self._insert(inputs, fresh, mask, first)
        return dict(zip((i.request_id for i in inputs), first.tolist(), strict=True))

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor,
                 cache: DynamicCache) -> torch.Tensor:
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                         use_cache=True, logits_to_keep=1, **{self._cache_kwarg: cache})
        return out.logits[:, -1, :]

    @staticmethod
    def _sample(logits: torch.Tensor) -> torch.Tensor:
        # Greedy: deterministic and the only mode MentaLLaMA's evaluation uses.
        return logits.argmax(dim=-1)

    # -- slot bookkeeping --------------------------------------------------------------------
    def _insert(self, inputs: list[PrefillInput], fresh: DynamicCache, mask: torch.Tensor,
                first: torch.Tensor) -> None:
        """Copy freshly prefilled requests into free rows (or new rows), right-aligned."""
        n, length = mask.shape
        if length > self.cache.length:  # make room on the left for the longer prompts
            self._reserve_columns(length - self.cache.length, shift=True)
        free_rows = [row for row, rid in enumerate(self.slots) if rid is None][:n]
        new_rows = list(range(len(self.slots), len(self.slots) + n - len(free_rows)))
        rows = free_rows + new_rows
        total_rows = len(self.slots) + len(new_rows)
        extra = max(i.max_new_tokens for i in inputs)
        self.cache.ensure(total_rows, self.cache.length + extra, self._kv(fresh))
        self.slots += [None] * len(new_rows)
        self._grow_state(total_rows)
        index = torch.tensor(rows, device=self.device)
        cols = slice(self.cache.length - length, self.cache.length)
        for layer, (k, v) in zip(self.cache.slot_layers, self._kv(fresh), strict=True):
            kbuf, vbuf = layer.buffers
            kbuf[index, :, :self.cache.length] = 0
            vbuf[index, :, :self.cache.length] = 0
            kbuf[index, :, cols] = k
            vbuf[index, :, cols] = v
        self.mask[index] = 0
        self.mask[index, cols] = mask
        self.positions[index] = mask.sum(-1)
        self.last_tokens[index] = first
        for row, item in zip(rows, inputs, strict=True):
            self.slots[row] = item.request_id
            self.remaining[item.request_id] = item.max_new_tokens - 1
        self.cache.rows = len(self.slots)

    @staticmethod
    def _kv(cache: DynamicCache) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each layer's keys and values, all set by the forward pass that filled ``cache``."""
        kv = []
        for layer in cache.layers:
            assert isinstance(layer, CacheLayerMixin) and layer.keys is not None and layer.values is not None
            kv.append((layer.keys, layer.values))
        return kv

    def _grow_state(self, rows: int) -> None:
        extra = rows - self.mask.shape[0]
        if extra > 0:
            self.mask = torch.cat([self.mask, self.mask.new_zeros((extra, self.mask.shape[1]))])
            self.positions = torch.cat([self.positions, self.positions.new_zeros(extra)])
            self.last_tokens = torch.cat([self.last_tokens, self.last_tokens.new_full((extra,), self.pad_token_id)])

    def _reserve_columns(self, n: int, *, shift: bool = False) -> None:
        """Make sure ``n`` more columns fit; with ``shift`` they are added on the left."""
        if self.cache.layers:
            need = self.cache.length + n + (max(self.remaining.values(), default=0) if shift else 0)
            self.cache.ensure(len(self.slots), need, self._kv_like())
        if shift:
            self.cache.shift_columns(n)
            self.mask = torch.cat([self.mask.new_zeros((self.mask.shape[0], n)), self.mask], dim=1)

    def _kv_like(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [layer.buffers for layer in self.cache.slot_layers]

    @torch.inference_mode()
    def release(self, request_ids: list[str]) -> None:
        """Free the rows of finished/aborted requests; compact when it pays."""
        gone = set(request_ids)
        for row, rid in enumerate(self.slots):
            if rid is not None and rid in gone:
                self.slots[row] = None
                self.remaining.pop(rid, None)
                self.positions[row] = 0  # a free row's dummy position must not grow unbounded
        if not self.remaining:
            self._empty()
            return
        while self.slots and self.slots[-1] is None:  # free rows at the end cost nothing to drop
            self.slots.pop()
        rows = len(self.slots)
        self.mask, self.positions, self.last_tokens = (
            self.mask[:rows], self.positions[:rows], self.last_tokens[:rows])
        self.cache.rows = rows
        if self.slots.count(None) >= max(1, self.FREE_ROWS_COMPACT * rows):
            self._compact_rows()
        self._trim_padding()

    def _empty(self) -> None:
        """No live request: keep the buffers (no reallocation next time), forget the rest."""
        cache = self.cache
        self._reset_state()
        cache.rows, cache.length = 0, 0
        self.cache = cache

    def _compact_rows(self) -> None:
        live = [row for row, rid in enumerate(self.slots) if rid is not None]
        index = torch.tensor(live, device=self.device)
        self.cache.keep_rows(index)
        self.slots = [self.slots[row] for row in live]
        self.mask = self.mask.index_select(0, index)
        self.positions = self.positions.index_select(0, index)
        self.last_tokens = self.last_tokens.index_select(0, index)

    def _trim_padding(self) -> None:
        live = torch.tensor([rid is not None for rid in self.slots], device=self.device)
        used = self.mask[live].sum(0) > 0
        start = int(used.nonzero()[0]) if bool(used.any()) else self.cache.length
        if start >= self.PADDING_COMPACT:
            self.cache.shift_columns(-start)
            self.mask = self.mask[:, start:]

    def reset(self) -> None:
        """Forget every request (after a failed forward)."""
        self._reset_state()


def _cache_kwarg(model: torch.nn.Module) -> str:
    """The name forward() takes the KV cache under: transformers 5.24 renamed ``past_key_values``
    to ``cache`` (the old name warns, and goes in 5.40). A peft wrapper forwards **kwargs, so ask
    the model it wraps."""
    get_base = getattr(model, "get_base_model", None)
    base = get_base() if callable(get_base) else model
    return "cache" if "cache" in inspect.signature(type(base).forward).parameters else "past_key_values"
