"""Deploying flows: numbered immutable versions, rollback and undeploy re-routing webhooks, route clashes
between flows, the versions list; on both backends."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from runtime import deployments, intake
from runtime.deployments import DeployConflict
from runtime.models import Flow, WebhookRoute


def doc(flow_id, *hooks) -> dict:
    """A flow with a webhook node per (path, method)."""
    nodes = [{"id": f"hook{i}", "type": "event.webhook", "config": {"path": p, "method": m, "respond": "sync",
                                                                      "timeout_s": 5}}
             for i, (p, m) in enumerate(hooks)]
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id, "nodes": nodes, "edges": []}


def draft(store, workspace, flow_id):
    with store.sessions.begin() as s:
        s.add(Flow(workspace=workspace, id=flow_id, name=flow_id, document=doc(flow_id)))


def routes(store, workspace):
    with store.sessions() as s:
        return {(r.path, r.method): (r.flow_id, r.version) for r in s.scalars(
            select(WebhookRoute).where(WebhookRoute.workspace == workspace))}


def test_versions_are_numbered_from_one_and_listed_newest_first(store, workspace):
    draft(store, workspace, "f")
    assert deployments.versions(store, workspace, "f") == []
    assert deployments.deploy(store, workspace, "f", doc("f", ("a", "POST"))) == 1
    assert deployments.deploy(store, workspace, "f", doc("f", ("b", "POST"))) == 2
    listed = deployments.versions(store, workspace, "f")
    assert [(v["version"], v["deployed"]) for v in listed] == [(2, True), (1, False)]
    assert all(v["created_at"].endswith("Z") for v in listed)
    assert deployments.document(store, workspace, "f", 1) == doc("f", ("a", "POST"))
    assert deployments.document(store, workspace, "f", 3) is None


def test_a_route_records_the_webhook_settings(store, workspace):
    draft(store, workspace, "f")
    d = doc("f", ("orders", "PUT"))
    d["nodes"][0]["config"]["path"] = "/orders/"
    deployments.deploy(store, workspace, "f", d)
    route = intake.find_route(store, workspace, "orders", "put")
    assert (route.flow_id, route.version, route.node_id, route.respond, route.timeout_s) == ("f", 1, "hook0",
                                                                                             "sync", 5.0)


def test_rollback_to_an_older_version_routes_its_webhooks_again(store, workspace):
    draft(store, workspace, "f")
    deployments.deploy(store, workspace, "f", doc("f", ("orders", "POST")))
    deployments.deploy(store, workspace, "f", doc("f", ("orders-v2", "POST")))
    assert routes(store, workspace) == {("orders-v2", "POST"): ("f", 2)}
    assert deployments.deploy(store, workspace, "f", version=1) == 1
    assert routes(store, workspace) == {("orders", "POST"): ("f", 1)}
    assert [(v["version"], v["deployed"]) for v in deployments.versions(store, workspace, "f")] == [
        (2, False), (1, True)]  # a rollback makes no new version
    with pytest.raises(LookupError):
        deployments.deploy(store, workspace, "f", version=7)
    assert routes(store, workspace) == {("orders", "POST"): ("f", 1)}


def test_undeploy_removes_the_routes(store, workspace):
    draft(store, workspace, "f")
    deployments.deploy(store, workspace, "f", doc("f", ("orders", "POST"), ("orders", "GET")))
    assert len(routes(store, workspace)) == 2
    deployments.undeploy(store, workspace, "f")
    assert routes(store, workspace) == {}
    with pytest.raises(intake.NotFound):
        intake.find_route(store, workspace, "orders", "POST")
    assert [v["deployed"] for v in deployments.versions(store, workspace, "f")] == [False]


def test_a_route_another_flow_holds_is_a_conflict_and_nothing_is_deployed(store, workspace):
    draft(store, workspace, "a")
    draft(store, workspace, "b")
    deployments.deploy(store, workspace, "a", doc("a", ("orders", "POST")))
    with pytest.raises(DeployConflict) as caught:
        deployments.deploy(store, workspace, "b", doc("b", ("free", "POST"), ("orders", "POST")))
    [problem] = caught.value.problems
    assert (problem.code, problem.node, problem.field) == ("webhook_taken", "hook1", "path")
    assert f"POST /hooks/{workspace}/orders" in problem.message
    assert deployments.versions(store, workspace, "b") == []
    assert routes(store, workspace) == {("orders", "POST"): ("a", 1)}
    # another method on the same path is another route; a flow may keep its own path across versions
    assert deployments.deploy(store, workspace, "b", doc("b", ("orders", "GET"))) == 1
    assert deployments.deploy(store, workspace, "a", doc("a", ("orders", "POST"))) == 2
    # once `a` is undeployed its path is free
    deployments.undeploy(store, workspace, "a")
    assert deployments.deploy(store, workspace, "b", doc("b", ("orders", "POST"))) == 2


def test_routes_are_per_workspace(store, workspace):
    other = workspace + "o"
    store.ensure_workspace(other)
    for ws in (workspace, other):
        draft(store, ws, "f")
        deployments.deploy(store, ws, "f", doc("f", ("orders", "POST")))
    assert intake.find_route(store, other, "orders", "POST").flow_id == "f"


def test_deploying_an_unknown_flow_is_a_lookup_error(store, workspace):
    with pytest.raises(LookupError):
        deployments.deploy(store, workspace, "nope", doc("nope"))


def test_concurrent_deploys_get_distinct_numbers(store, workspace):
    draft(store, workspace, "f")
    got, barrier = [], threading.Barrier(4)

    def deploy():
        barrier.wait()
        got.append(deployments.deploy(store, workspace, "f", doc("f", ("orders", "POST"))))

    threads = [threading.Thread(target=deploy) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == [1, 2, 3, 4]
    newest = deployments.versions(store, workspace, "f")[0]
    assert (newest["version"], newest["deployed"]) == (4, True)
