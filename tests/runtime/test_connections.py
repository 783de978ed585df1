"""Connections: secrets stored encrypted, decrypted for steps only, kept on edits, unreadable under another key."""
from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from runtime import connections
from runtime.models import SystemConnection


def test_secrets_are_stored_encrypted_and_resolved_for_steps(rt, workspace):
    shown = connections.save(rt, workspace, "erp", {"system": "erp", "base_url": "http://erp.example/api/",
                                                    "auth": {"type": "basic", "username": "svc", "password": "s3cret"}})
    assert shown == {"name": "erp", "system": "erp", "base_url": "http://erp.example/api",
                     "auth": {"type": "basic", "username": "svc"}, "secret_set": True}
    with rt.sessions() as s:
        stored = s.scalar(select(SystemConnection.secret).where(SystemConnection.workspace == workspace))
    assert "s3cret" not in stored
    assert connections.resolve(rt, workspace, "erp")["auth"] == {"type": "basic", "username": "svc",
                                                                 "password": "s3cret"}


def test_an_edit_without_the_secret_keeps_it_and_workspaces_are_apart(rt, workspace):
    connections.save(rt, workspace, "oms", {"system": "oms", "base_url": "http://a", "auth": {"type": "bearer",
                                                                                           "token": "t1"}})
    connections.save(rt, workspace, "oms", {"system": "oms", "base_url": "http://b", "auth": {"type": "bearer"}})
    assert connections.resolve(rt, workspace, "oms") == {"name": "oms", "system": "oms", "base_url": "http://b",
                                                         "auth": {"type": "bearer", "token": "t1"}}
    rt.ensure_workspace(workspace + "x")
    with pytest.raises(KeyError):
        connections.resolve(rt, workspace + "x", "oms")
    assert [c["name"] for c in connections.list_all(rt, workspace)] == ["oms"]
    assert connections.remove(rt, workspace, "oms") and not connections.remove(rt, workspace, "oms")


@pytest.mark.parametrize("name, data, field", [
    ("a b", {"base_url": "http://x"}, "name"),
    ("erp", {"base_url": "ftp://x"}, "base_url"),
    ("erp", {"base_url": "http://x", "system": "crm"}, "system"),
    ("erp", {"base_url": "http://x", "auth": {"type": "oauth"}}, "auth.type"),
])
def test_a_bad_connection_names_its_field(rt, workspace, name, data, field):
    with pytest.raises(connections.InvalidConnection) as err:
        connections.save(rt, workspace, name, data)
    assert err.value.field == field


def test_secrets_encrypted_under_another_secret_key_cannot_be_read(rt, workspace):
    connections.save(rt, workspace, "wms", {"system": "wms", "base_url": "http://w", "auth": {"type": "api_key",
                                                                                            "key": "k"}})
    rt.settings = dataclasses.replace(rt.settings, secret_key="rotated")
    with pytest.raises(KeyError, match="CROSSDOCK_SECRET_KEY_PREVIOUS"):
        connections.resolve(rt, workspace, "wms")


def test_a_changed_secret_key_keeps_credentials_readable_through_the_previous_key(rt, workspace):
    connections.save(rt, workspace, "tms", {"system": "tms", "base_url": "http://t", "auth": {"type": "bearer",
                                                                                            "token": "tok"}})
    old = rt.settings.secret_key
    rt.settings = dataclasses.replace(rt.settings, secret_key="new-key", previous_secret_keys=(old,))
    assert connections.resolve(rt, workspace, "tms")["auth"]["token"] == "tok"
    assert connections.rotate(rt) >= 1
    rt.settings = dataclasses.replace(rt.settings, previous_secret_keys=())  # the old key retired
    assert connections.resolve(rt, workspace, "tms")["auth"]["token"] == "tok"
