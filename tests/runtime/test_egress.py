"""A workspace's egress policy (runtime/egress.py): read from its settings, cached per process, given to the
connectors of its runs; the embedded samples allow their sandbox."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from designer import samples
from runtime import egress
from runtime.models import Workspace
from support.api import deploy, finished
from support.flowdocs import done, edge


def set_settings(rt, workspace: str, settings) -> None:
    with rt.sessions.begin() as s:
        s.execute(update(Workspace).where(Workspace.id == workspace).values(settings=settings))
    egress.forget()  # what the API saving workspace settings does


def test_the_policy_comes_from_the_workspace_settings(store, workspace):
    assert egress.policy(store, workspace).hosts == frozenset()
    set_settings(store, workspace, {"egress": {"allow": ["erp.internal:8080", "10.0.0.0/8", "not an entry"]},
                                    "other": 1})
    policy = egress.policy(store, workspace)  # the entry that does not parse is left out, not fatal
    assert policy.hosts == {("erp.internal", 8080)} and [str(n) for n in policy.networks] == ["10.0.0.0/8"]
    assert egress.allow(store, workspace, "127.0.0.1:5001", "erp.internal:8080") == [
        "erp.internal:8080", "10.0.0.0/8", "not an entry", "127.0.0.1:5001"]
    assert ("127.0.0.1", 5001) in egress.policy(store, workspace).hosts  # seen at once: allow forgets
    with store.sessions() as s:
        assert s.get(Workspace, workspace).settings["other"] == 1
    with pytest.raises(ValueError):
        egress.allow(store, workspace, "nonsense")


def test_settings_problems_name_the_entry():
    assert egress.problems({}) == [] and egress.problems({"egress": {"allow": ["a:1", "10.0.0.0/8"]}}) == []
    assert egress.problems({"egress": {"allow": ["a:1", "b"]}}) == [
        {"field": "settings.egress.allow[1]", "message": "'b' is not a host:port or an address range"}]
    assert egress.problems({"egress": {"allow": "a:1"}})[0]["field"] == "settings.egress.allow"
    assert egress.problems({"egress": {"deny": []}})[0]["field"] == "settings.egress"


def test_the_samples_allow_their_sandbox(store, workspace, http_target):
    samples.install(store, workspace, sandbox_url="http://127.0.0.1:5999")
    assert "127.0.0.1:5999" in egress.allow_list(_settings(store, workspace))


def _settings(rt, workspace):
    with rt.sessions() as s:
        return s.get(Workspace, workspace).settings


def redis_call(flow_id: str, url: str) -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id, "nodes": [
        {"id": "hook", "type": "event.webhook", "config": {"path": flow_id}},
        {"id": "call", "type": "connector.http", "config": {"url": url, "retry": {"max_attempts": 1}}},
        done()], "edges": [edge(1, "hook", "call"), edge(2, "call", "done")]}


def test_a_run_aimed_at_redis_fails_with_egress_denied_unless_the_workspace_allows_it(client, rt, workspace):
    deploy(client, redis_call("f-redis", "http://127.0.0.1:6379/"))
    run = finished(client, client.post(f"/hooks/{workspace}/f-redis", json={}).json["run_id"])
    assert run["status"] == "failed" and run["error"]["code"] == "egress_denied"
    egress.allow(rt, workspace, "127.0.0.1:6379")
    run = finished(client, client.post(f"/hooks/{workspace}/f-redis", json={}).json["run_id"])
    assert run["status"] == "failed" and run["error"]["code"] == "connection_error"  # reached: Redis is no web server


def test_a_host_chosen_by_the_message_fails_with_egress_denied(client, rt, workspace, http_target):
    doc = redis_call("f-chosen", "http://127.0.0.1/x")
    doc["nodes"][1]["config"]["url"] = "http://{{$.target}}/x"  # a save shows the problem; deploy refuses it
    assert client.post("/api/v1/flows", json=doc).status_code == 201
    r = client.post("/api/v1/flows/f-chosen/deploy")
    assert r.status_code == 422 and any(d.get("field") == "url" for d in r.json["error"]["details"])
