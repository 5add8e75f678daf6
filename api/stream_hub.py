"""One Redis reader per web process that fans job events out to every open SSE stream.

A thousand browsers following jobs would otherwise hold a thousand blocking XREAD connections.
Here one thread (a greenlet under gevent) blocks on XREAD over all followed streams plus a
private wake-up stream, so a new subscription is picked up at once. Each subscriber keeps its
own cursor and drops anything at or before it: no gap, no duplicate, even when it joins while
the hub is mid-read.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from typing import Any, cast

import redis

from jobstore import events

log = logging.getLogger("mindq.sse")


def event_order(event_id: str) -> tuple[int, int]:
    """A stream event id as a sortable pair (milliseconds, sequence)."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


class Subscription:
    """One open stream: a queue of (event id, data, wire text) the hub fills in order."""

    def __init__(self, job_id: str, cursor: str):
        self.job_id = job_id
        self.cursor = cursor
        self.queue: queue.SimpleQueue = queue.SimpleQueue()

    def offer(self, entries: list[tuple[str, dict, str]]) -> None:
        for entry in entries:
            if event_order(entry[0]) > event_order(self.cursor):
                self.cursor = entry[0]
                self.queue.put(entry)


def format_event(event_id: str, data: dict) -> str:
    """The SSE wire form of one event, built once however many clients follow it: a job's
    events are named ``job``, a re-analysis run's ``run``, the last one of either ``end``."""
    kind = "end" if events.is_terminal_event(data) else "run" if "run_id" in data else "job"
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _with_text(entries: list[tuple[str, dict]]) -> list[tuple[str, dict, str]]:
    return [(event_id, data, format_event(event_id, data)) for event_id, data in entries]


class StreamHub:
    def __init__(self, redis_url: str, block_ms: int = 5000):
        self._redis_url = redis_url
        self._block_ms = block_ms
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}
        self._cursors: dict[str, str] = {}
        self._wake_key = f"mindq:sse-wake:{uuid.uuid4().hex}"
        self._wake_cursor = "0-0"
        self._thread: threading.Thread | None = None
        self._client: redis.Redis | None = None

    # -- subscriber side --------------------------------------------------------------------
    def subscribe(self, job_id: str, cursor: str) -> Subscription:
        """Follow a job from ``cursor`` (the last event id the subscriber has)."""
        self._ensure_running()
        sub = Subscription(job_id, cursor)
        with self._lock:
            hub_cursor = self._cursors.get(job_id)
            if hub_cursor is None:
                self._cursors[job_id] = cursor
            elif event_order(hub_cursor) > event_order(cursor):
                # the hub already read past this subscriber's cursor: fill the gap from the stream
                sub.offer(_with_text(events.decode(cast(list, self.client.xrange(
                    events.stream_key(job_id), min=f"({cursor}", max=hub_cursor)))))
            self._subs.setdefault(job_id, set()).add(sub)
        self._wake()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.job_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.job_id]
                    self._cursors.pop(sub.job_id, None)

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(self._redis_url, socket_keepalive=True)
        return self._client

    def open_streams(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subs.values())

    # -- reader side ------------------------------------------------------------------------
    def _wake(self) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.xadd(self._wake_key, {"w": "1"}, maxlen=10, approximate=False)
            pipe.expire(self._wake_key, 3600)
            pipe.execute()
        except redis.RedisError:
            pass

    def _ensure_running(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True, name="sse-hub")
                self._thread.start()

    def _run(self) -> None:
        reader = redis.Redis.from_url(self._redis_url, socket_keepalive=True,
                                      socket_timeout=self._block_ms / 1000 + 10)
        while True:
            with self._lock:
                streams: dict[Any, Any] = {events.stream_key(j): c for j, c in self._cursors.items()}
            streams[self._wake_key] = self._wake_cursor
            try:
                result = cast(list, reader.xread(streams, block=self._block_ms, count=500))
            except redis.RedisError as exc:
                log.warning("sse hub read failed; retrying", extra={"error_type": type(exc).__name__})
                time.sleep(0.5)
                continue
            for key, entries in result or []:
                key = key.decode() if isinstance(key, bytes) else key
                if key == self._wake_key:
                    last = entries[-1][0]
                    self._wake_cursor = last.decode() if isinstance(last, bytes) else last
                    continue
                self._dispatch(key.rsplit(":", 1)[1], _with_text(events.decode(entries)), streams[key])

    def _dispatch(self, job_id: str, entries: list[tuple[str, dict, str]], read_from: str) -> None:
        with self._lock:
            if self._cursors.get(job_id) != read_from:
                # unfollowed, or re-followed from an older cursor while this read ran: the next
                # read starts from the current cursor (subscribers drop what they already have)
                return
            self._cursors[job_id] = entries[-1][0]
            for sub in self._subs.get(job_id, ()):
                sub.offer(entries)
