"""Connections: secrets stored encrypted, decrypted for steps only, kept on edits, cleared when re-pointed,
unreadable under another key, and usable after a key rotation (with a flow's inline secrets)."""
from __future__ import annotations

import base64
import dataclasses

import pytest
from sqlalchemy import select

from designer import drafts
from runtime import connections, deployments, intake, secrets
from runtime.models import SystemConnection
from runtime.plan import PlanCache
from support.api import finished


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
    connections.save(rt, workspace, "oms", {"system": "oms", "base_url": "http://a:80/v2/", "auth": {"type": "bearer"}})
    assert connections.resolve(rt, workspace, "oms") == {"name": "oms", "system": "oms", "base_url": "http://a:80/v2",
                                                         "auth": {"type": "bearer", "token": "t1"}}
    rt.ensure_workspace(workspace + "x")
    with pytest.raises(KeyError):
        connections.resolve(rt, workspace + "x", "oms")
    assert [c["name"] for c in connections.list_all(rt, workspace)] == ["oms"]
    assert connections.remove(rt, workspace, "oms") and not connections.remove(rt, workspace, "oms")


@pytest.mark.parametrize("change", [
    {"base_url": "http://evil.example/api"},  # another host
    {"base_url": "http://erp.example:8443/api"},  # another port
    {"base_url": "https://erp.example/api"},  # another scheme
    {"system": "http"},  # another system
])
def test_a_re_pointed_connection_loses_its_secrets(rt, workspace, change):
    connections.save(rt, workspace, "erp", {"system": "erp", "base_url": "http://erp.example/api",
                                            "auth": {"type": "basic", "username": "svc", "password": "s3cret"}})
    shown = connections.save(rt, workspace, "erp", {"system": "erp", "base_url": "http://erp.example/api",
                                                    "auth": {"type": "basic", "username": "svc"}, **change})
    assert shown["secret_set"] is False
    assert connections.resolve(rt, workspace, "erp")["auth"] == {"type": "basic", "username": "svc"}
    with rt.sessions() as s:
        assert s.scalar(select(SystemConnection.secret).where(SystemConnection.workspace == workspace)) is None


def test_a_re_pointed_connection_keeps_the_secret_the_same_save_gives(rt, workspace):
    connections.save(rt, workspace, "erp", {"system": "erp", "base_url": "http://old.example",
                                            "auth": {"type": "api_key", "key": "k-old", "token": "t-old"}})
    shown = connections.save(rt, workspace, "erp", {"system": "erp", "base_url": "http://new.example",
                                                    "auth": {"type": "api_key", "key": "k-new"}})
    assert shown["secret_set"] is True
    # only what was given again: the token entered for the old host is gone with it
    assert connections.resolve(rt, workspace, "erp")["auth"] == {"type": "api_key", "key": "k-new"}


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
    assert connections.rotate(rt, workspace) >= 1
    rt.settings = dataclasses.replace(rt.settings, previous_secret_keys=())  # the old key retired
    assert connections.resolve(rt, workspace, "tms")["auth"]["token"] == "tok"


def rotation_flow(target: str) -> dict:
    """manual -> ERP lookup on the connection `erp` -> connector.http with an inline bearer token -> end."""
    return {"schema": "crossdock.flow/1", "id": "f-rotate", "name": "f-rotate", "nodes": [
        {"id": "start", "type": "event.manual", "config": {}},
        {"id": "erp", "type": "connector.erp", "config": {"connection": "erp", "operation": "find_sales_order"}},
        {"id": "call", "type": "connector.http", "config": {
            "method": "GET", "url": target + "/inline", "auth": {"type": "bearer", "token": "inline-t0k3n"},
            "headers": {"X-Api-Key": "header-k3y"}}},
        {"id": "done", "type": "control.discard", "config": {"reason": "end"}}],
        "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "erp", "target_port": "in"},
                  {"id": "e2", "source": "erp", "source_port": "out", "target": "call", "target_port": "in"},
                  {"id": "e3", "source": "call", "source_port": "out", "target": "done", "target_port": "in"}]}


def test_rotating_the_key_leaves_every_stored_credential_usable(rt, client, workspace, http_target):
    """Rotate (new key, old one previous), re-encrypt, retire the old key, restart: a flow using a connection
    and inline secrets still authenticates with each of them."""
    connections.save(rt, workspace, "erp", {"system": "erp", "base_url": http_target.url + "/erp/api",
                                            "auth": {"type": "basic", "username": "svc", "password": "c0nn-pw"}})
    f = drafts.create(rt, workspace, rotation_flow(http_target.url))
    deployments.deploy(rt, workspace, "f-rotate", f.document)

    def run_and_read_credentials() -> list[str]:
        http_target.requests.clear()
        run = intake.start_manual(rt, workspace, "f-rotate", {"number": "SO-1"})
        assert finished(client, run.id)["status"] == "succeeded"
        erp, call = http_target.requests
        assert erp["path"].startswith("/erp/api/sales-orders") and call["path"] == "/inline"
        return [erp["headers"]["Authorization"], call["headers"]["Authorization"], call["headers"]["X-Api-Key"]]

    expected = ["Basic " + base64.b64encode(b"svc:c0nn-pw").decode(), "Bearer inline-t0k3n", "header-k3y"]
    assert run_and_read_credentials() == expected
    old = rt.settings.secret_key
    rt.settings = dataclasses.replace(rt.settings, secret_key="rotated-key", previous_secret_keys=(old,))
    assert connections.rotate(rt, workspace) == 1
    assert secrets.rotate(rt, workspace) == 2  # the draft and its version
    rt.settings = dataclasses.replace(rt.settings, previous_secret_keys=())  # the old key retired
    rt.plans = PlanCache()  # as a restarted process: plans are built again from the stored documents
    assert run_and_read_credentials() == expected
