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


def plannable(flow_id, path) -> dict:
    """A webhook into a mapping ending on purpose: a version a worker can plan and run."""
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id, "settings": {"business_key": "po"},
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": path}},
                      {"id": "map", "type": "transform.map", "config": {"expression": "{'po': po}"}},
                      {"id": "done", "type": "control.discard", "config": {"reason": "a test"}}],
            "edges": [{"id": "e1", "source": "hook", "source_port": "out", "target": "map", "target_port": "in"},
                      {"id": "e2", "source": "map", "source_port": "out", "target": "done", "target_port": "in"}]}


@pytest.fixture
def compiled(monkeypatch):
    """Every plan compilation of this test: (version, the thread that compiled it)."""
    from runtime import plan

    seen, real = [], plan.compile

    def counting(doc, workspace, flow_id, version, *args):
        seen.append((version, threading.current_thread()))
        return real(doc, workspace, flow_id, version, *args)

    monkeypatch.setattr(plan, "compile", counting)  # every runtime path plans through plan.compile_for
    return seen


def test_deploy_plans_the_version_once_in_the_background(store, workspace, compiled):
    draft(store, workspace, "f")
    version = deployments.deploy(store, workspace, "f", plannable("f", "planned"))
    plan = store.plan_for(workspace, "f", version)  # waits for the deploy's build, or finds it done
    assert plan.version == version and list(plan.nodes) == ["hook", "map", "done"]
    assert [v for v, _ in compiled] == [version]
    assert compiled[0][1] is not threading.current_thread()


def test_a_webhook_into_a_freshly_deployed_flow_builds_no_plan_in_the_request(store, workspace, api, hook_key,
                                                                              compiled):
    from runtime.wiring import Runtime
    from runtime.models import Run
    from web.app import create_app

    assert api.post("/api/v1/flows", json=plannable("f", "fresh")).status_code == 201
    assert api.post("/api/v1/flows/f/deploy", json={}).status_code == 201
    answer = api.post(f"/hooks/{workspace}/fresh", json={"po": "4711"})
    assert answer.status_code == 202
    assert all(thread is not threading.current_thread() for _, thread in compiled)  # the deploy's build only
    # another web process on the same database, which has planned nothing (production: web restarted)
    other = Runtime(store.settings)
    try:
        client = create_app(other).test_client()
        answer = client.post(f"/hooks/{workspace}/fresh", json={"po": "4712"}, headers={"X-Crossdock-Key": hook_key})
        assert answer.status_code == 202 and other.plans.cached((workspace, "f", 1)) is None
        with other.sessions() as s:
            assert s.get(Run, answer.json["run_id"]).business_key == "4712"  # the keys, read from the settings
    finally:
        other.close()
    assert all(thread is not threading.current_thread() for _, thread in compiled)


def test_a_missing_version_is_refused_at_intake_without_planning(store, workspace, compiled):
    from runtime.plan import PlanError

    draft(store, workspace, "f")
    with pytest.raises(PlanError, match="no version 7"):
        intake.start(store, workspace, "f", 7, {}, trigger="webhook")
    assert compiled == []


def test_a_process_that_starts_plans_the_deployed_versions_in_the_background(lone_store, workspace, compiled):
    # on a schema of its own: the starting process plans every deployed version it finds, and on the shared
    # schema those are every version the run's earlier tests deployed (~15 s of planning, growing with the suite)
    from runtime.wiring import Runtime

    store = lone_store
    draft(store, workspace, "f")
    version = deployments.deploy(store, workspace, "f", plannable("f", "started"))
    other = Runtime(store.settings)  # a worker process starting (run.py worker calls this before taking jobs)
    try:
        other.warm_plans()
        other._warming.join(60)
        assert other.plans.cached((workspace, "f", version)).version == version
        assert any(thread is other._warming for _, thread in compiled)
    finally:
        other.close()


def test_a_starting_process_plans_the_latest_deployed_versions_first_when_they_outnumber_its_cache(store, workspace):
    from runtime.plan import PlanCache
    from runtime.wiring import Runtime

    for flow_id in ("older", "newer"):
        draft(store, workspace, flow_id)
        deployments.deploy(store, workspace, flow_id, plannable(flow_id, f"started-{flow_id}"))
    other = Runtime(store.settings)
    other.plans = PlanCache(size=1)  # every earlier test's versions on a shared schema too: room for one
    try:
        other.warm_plans()
        other._warming.join(60)
        assert other.plans.cached((workspace, "newer", 1)) is not None
        assert other.plans.cached((workspace, "older", 1)) is None
    finally:
        other.close()
