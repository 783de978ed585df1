"""API keys: shown once and stored hashed, verified through a per-process cache, revoked at once in this
process and within the cache's bound from another, last_used_at written at most once a minute."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from runtime import keys
from runtime.models import ApiKey
from runtime.readthrough import ReadThrough


def test_a_created_key_verifies_with_its_secret_only_and_only_its_hash_is_stored(store, workspace, partner):
    shown, secret = keys.create(store, workspace, "shop", ["hooks:write", "runs:read"], "admin@example.com")
    assert secret.startswith(f"cdk_{shown['id']}_") and len(secret) >= len("cdk_k_0123456789_") + 32
    assert shown["name"] == "shop" and shown["scopes"] == ["hooks:write", "runs:read"]
    assert shown["created_by"] == "admin@example.com" and shown["revoked_at"] is None
    info = keys.verify(store, secret)
    assert info == keys.KeyInfo(shown["id"], workspace, partner, frozenset({"hooks:write", "runs:read"}))
    with store.sessions() as s:
        stored = s.scalar(select(ApiKey.key_hash).where(ApiKey.id == shown["id"]))
    assert secret not in stored and secret.split("_", 3)[-1] not in stored
    for wrong in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), secret + "x", secret.upper(), "", None, 42,
                  f"cdk_{shown['id']}_", "Bearer " + secret, f"cdk_k_zzzzzzzzzz_{'a' * 40}"):
        assert keys.verify(store, wrong) is None, wrong


def test_create_refuses_unknown_scopes_and_empty_names(store, workspace):
    for name, scopes, field in (("x", ["flows:read", "root"], "scopes"), ("x", [], "scopes"),
                                ("x", "hooks:write", "scopes"), ("x", ["keys:write"], "scopes"),
                                ("x", ["users:write"], "scopes"), ("  ", ["runs:read"], "name"),
                                (None, ["runs:read"], "name")):
        with pytest.raises(keys.KeyProblem) as err:
            keys.create(store, workspace, name, scopes, "a")
        assert err.value.field == field
    assert keys.list_for(store, workspace) == []


def test_revoke_takes_effect_at_once_in_this_process_and_keeps_the_key_listed(store, workspace):
    shown, secret = keys.create(store, workspace, "old", ["hooks:write"], "a")
    assert keys.verify(store, secret) is not None  # now kept in the cache
    assert keys.revoke(store, "another-ws", shown["id"]) is False  # another workspace's id is unknown here
    assert keys.verify(store, secret) is not None
    assert keys.revoke(store, workspace, shown["id"]) is True
    assert keys.verify(store, secret) is None
    listed = keys.list_for(store, workspace)
    assert [k["id"] for k in listed] == [shown["id"]] and listed[0]["revoked_at"] is not None
    assert keys.revoke(store, workspace, "k_0000000000") is False


def test_a_revoke_made_by_another_process_is_seen_within_the_bound(store, workspace, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(keys, "_rows", ReadThrough(keys.KEYS_FRESH_S, clock=lambda: now[0]))
    shown, secret = keys.create(store, workspace, "k", ["hooks:write"], "a")
    assert keys.verify(store, secret) is not None
    with store.sessions.begin() as s:  # what another process's revoke writes; this process is not told
        s.execute(update(ApiKey).where(ApiKey.id == shown["id"]).values(revoked_at=ApiKey.created_at))
    now[0] += keys.KEYS_FRESH_S - 0.5
    assert keys.verify(store, secret) is not None
    now[0] += 0.51
    assert keys.verify(store, secret) is None


def test_last_used_at_is_written_once_a_minute_at_most(store, workspace, monkeypatch):
    clock = [5000.0]
    monkeypatch.setattr(keys.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(keys, "_touched", {})
    shown, secret = keys.create(store, workspace, "k", ["hooks:write"], "a")
    assert keys.list_for(store, workspace)[0]["last_used_at"] is None
    keys.verify(store, secret)
    first = keys.list_for(store, workspace)[0]["last_used_at"]
    assert first is not None
    writes = []
    monkeypatch.setattr(keys, "update", lambda *a: writes.append(a) or update(*a))
    clock[0] += keys.TOUCH_EVERY_S - 1
    keys.verify(store, secret)
    assert writes == []
    clock[0] += 1
    keys.verify(store, secret)
    assert len(writes) == 1


def test_keys_are_listed_per_workspace(store, workspace):
    store.ensure_workspace(workspace + "b")
    a, _ = keys.create(store, workspace, "a", ["runs:read"], "x")
    b, secret_b = keys.create(store, workspace + "b", "b", ["runs:read"], "x")
    assert [k["id"] for k in keys.list_for(store, workspace)] == [a["id"]]
    assert keys.verify(store, secret_b).workspace == workspace + "b"
