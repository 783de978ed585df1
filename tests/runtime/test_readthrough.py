"""The per-process read-through cache of connections and lookup rows: kept for its freshness window, forgotten
at once by a write in this process, never kept from a read that raced a write."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from runtime import connections, lookups
from runtime.models import LookupEntry
from runtime.readthrough import ReadThrough


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_kept_for_its_window_then_read_again():
    clock, loads = Clock(), []
    cache = ReadThrough(2.0, clock=clock)
    load = lambda: loads.append(1) or len(loads)  # noqa: E731
    assert cache.get("k", load) == 1 and cache.get("k", load) == 1
    clock.now += 2.5
    assert cache.get("k", load) == 2


def test_forget_drops_every_entry_and_a_read_racing_it_is_not_kept():
    cache = ReadThrough(60.0, clock=Clock())
    assert cache.get("a", lambda: "old") == "old"
    cache.forget()
    assert cache.get("a", lambda: "new") == "new"

    def slow_read():
        cache.forget()  # a write commits while this read is on its way
        return "stale"

    assert cache.get("b", slow_read) == "stale"
    assert cache.get("b", lambda: "fresh") == "fresh"


def test_a_failed_read_is_not_kept():
    cache = ReadThrough(60.0, clock=Clock())
    with pytest.raises(KeyError):
        cache.get("k", lambda: (_ for _ in ()).throw(KeyError("k")))
    assert cache.get("k", lambda: 1) == 1


def test_a_saved_connection_is_resolved_anew_at_once_and_callers_get_their_own_copy(rt, workspace):
    connections.save(rt, workspace, "erp", {"system": "erp", "base_url": "http://a", "auth": {
        "type": "bearer", "token": "t1"}})
    first = connections.resolve(rt, workspace, "erp")
    first["auth"]["token"] = "changed by a caller"
    assert connections.resolve(rt, workspace, "erp")["auth"]["token"] == "t1"
    connections.save(rt, workspace, "erp", {"system": "erp", "base_url": "http://b", "auth": {
        "type": "bearer", "token": "t2"}})
    assert connections.resolve(rt, workspace, "erp")["base_url"] == "http://b"
    assert connections.resolve(rt, workspace, "erp")["auth"]["token"] == "t2"
    connections.remove(rt, workspace, "erp")
    with pytest.raises(KeyError):
        connections.resolve(rt, workspace, "erp")


def test_a_lookup_written_here_is_read_anew_at_once_and_another_processs_write_within_the_window(
        rt, workspace, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(lookups, "_rows", ReadThrough(lookups.FRESH_S, clock=clock))
    lookups.replace(rt, workspace, "sku", {"a": "A1", "b": {"item": "B"}})
    assert lookups.get(rt, workspace, "sku", "a") == "A1"
    lookups.get(rt, workspace, "sku", "b")["item"] = "changed by a caller"
    assert lookups.get(rt, workspace, "sku", "b") == {"item": "B"}
    lookups.put(rt, workspace, "sku", "a", "A2")
    assert lookups.get(rt, workspace, "sku", "a") == "A2"
    lookups.remove(rt, workspace, "sku", "a")
    assert lookups.get(rt, workspace, "sku", "a") is None
    lookups.put(rt, workspace, "sku", "a", "A3")
    assert lookups.get(rt, workspace, "sku", "a") == "A3"
    with rt.sessions.begin() as s:  # another process writes: this one does not hear of it
        s.execute(update(LookupEntry).where(LookupEntry.workspace == workspace, LookupEntry.key == "a")
                  .values(value="A4"))
    assert lookups.get(rt, workspace, "sku", "a") == "A3"
    clock.now += lookups.FRESH_S + 0.1
    assert lookups.get(rt, workspace, "sku", "a") == "A4"
