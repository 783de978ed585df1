"""A per-process read-through cache of workspace configuration that steps read on every message: connections
(a row read and a Fernet decryption) and lookup-table rows. Without it each step paid a database transaction for
them, and on SQLite each transaction takes the write lock.

Freshness: a write made by this process (the API saving a connection, replacing a table) forgets every entry at
once; a write made by another process (the web process, when runs execute in workers) is seen within `ttl_s`.
An entry read while a write was in flight is not kept, so a forget can never be undone by a slow reader.
"""
from __future__ import annotations

import threading
import time
import weakref
from typing import Any, Callable, Hashable

MAX_ENTRIES = 20_000  # past this the cache starts over: a bound on memory, not a policy
_databases: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()


def database(engine: Any) -> str:
    """The engine's URL as text, the part of a key that tells databases apart, made once per engine: an engine URL
    hashes by rendering itself again (~12 us), and a step's keys were hashed several times per message."""
    found = _databases.get(engine)
    if found is None:
        found = _databases[engine] = str(engine.url)
    return found


class ReadThrough:
    def __init__(self, ttl_s: float, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """The kept value for `key`, or `load()`'s, kept for ttl_s; exceptions from load are not kept."""
        hit = self._entries.get(key)
        now = self.clock()
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._generation
        value = load()
        with self._lock:
            if generation == self._generation:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (now + self.ttl_s, value)
        return value

    def forget(self) -> None:
        """Drop every entry; call it once a write has committed. A write inside a caller's longer transaction
        (a template install) may be seen up to ttl_s late by readers racing its commit."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
