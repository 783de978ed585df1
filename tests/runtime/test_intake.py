"""Starting runs: the run row is committed before its job is enqueued, so a queue outage loses nothing;
manual runs take the manual node's sample; on both backends. (Sync replies travel as events: test_store.py,
tests/runtime/test_replies*.)"""
from __future__ import annotations

import pytest
from sqlalchemy import update

from runtime import deployments, intake, jobs
from runtime.models import Flow, Run
from support import wait_for
from support.flowdocs import done


def deploy(store, workspace, flow_id="f", *, sample=None, settings=None, respond=False) -> int:
    last = ({"id": "reply", "type": "control.respond", "config": {"status": 201, "body": "{'got': ref}"}} if respond
            else {"id": "map", "type": "transform.map", "config": {"expression": "{'ref': ref}"}})
    doc = {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id, "settings": settings or {},
           "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": f"{flow_id}-in"}},
                     {"id": "start", "type": "event.manual", "config": {"sample": sample}}, last],
           "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": last["id"], "target_port": "in"},
                     {"id": "e2", "source": "hook", "source_port": "out", "target": last["id"], "target_port": "in"}]}
    if not respond:  # a reply ends the flow; a mapping's output must be ended explicitly
        doc["nodes"].append(done())
        doc["edges"].append({"id": "e3", "source": "map", "source_port": "out", "target": "done", "target_port": "in"})
    with store.sessions.begin() as s:
        s.add(Flow(workspace=workspace, id=flow_id, name=flow_id, document=doc))
    return deployments.deploy(store, workspace, flow_id, doc)


def stored(store, run_id) -> Run | None:
    with store.sessions() as s:  # a session of its own: sees only what was committed
        return s.get(Run, run_id)


def queued_ids(store) -> list[int]:
    return store.queue.waiting_run_ids()


def test_the_run_is_committed_before_its_job_is_enqueued(store, workspace, monkeypatch):
    deploy(store, workspace)
    seen = []
    monkeypatch.setattr(store.queue, "enqueue_run", lambda run_id, delay_s=0.0: seen.append(stored(store, run_id)))
    run = intake.start(store, workspace, "f", 1, {"ref": "A"}, trigger="webhook", trigger_node="hook")
    [row] = seen
    assert row is not None and row.id == run.id and row.status == "queued" and row.input == {"ref": "A"}


def test_a_queue_outage_loses_no_run_and_requeue_picks_it_up(store, workspace, monkeypatch):
    deploy(store, workspace)

    def down(run_id, delay_s=0.0):
        raise ConnectionError("redis is down")

    with monkeypatch.context() as m:
        m.setattr(store.queue, "enqueue_run", down)
        run = intake.start(store, workspace, "f", 1, {"ref": "B"}, trigger="webhook", trigger_node="hook")
    row = stored(store, run.id)
    assert (row.status, row.attempt, row.trigger, row.trigger_node, row.version) == ("queued", 0, "webhook", "hook", 1)
    assert run.id not in queued_ids(store)
    assert jobs.requeue_waiting(store) >= 1  # what maintenance does once the queue answers again
    assert run.id in queued_ids(store)
    jobs.bind(store)
    store.queue.start_threads(1)
    assert wait_for(lambda: stored(store, run.id).status == "succeeded")
    assert stored(store, run.id).output == {"ref": "B"}


def test_requeue_leaves_runs_that_wait_for_a_later_retry(store, workspace, monkeypatch):
    deploy(store, workspace)
    monkeypatch.setattr(store.queue, "enqueue_run", lambda run_id, delay_s=0.0: None)
    run = intake.start(store, workspace, "f", 1, {"ref": "C"}, trigger="manual")
    with store.sessions.begin() as s:
        s.execute(update(Run).where(Run.id == run.id).values(not_before=run.created_at.replace(year=2999)))
    jobs.requeue_waiting(store)
    assert run.id not in queued_ids(store)


def test_start_computes_business_and_sequence_keys(store, workspace):
    deploy(store, workspace, settings={"business_key": "ref", "sequence_key": "customer"})
    run = intake.start(store, workspace, "f", 1, {"ref": "PO-1", "customer": "C-9"}, trigger="manual")
    row = stored(store, run.id)
    assert (row.business_key, row.sequence_key) == ("PO-1", "C-9")
    assert run.id in queued_ids(store)


def test_start_manual_uses_the_manual_nodes_sample(store, workspace):
    deploy(store, workspace, sample={"ref": "SAMPLE"})
    run = intake.start_manual(store, workspace, "f")
    assert (run.input, run.trigger, run.trigger_node, run.version) == ({"ref": "SAMPLE"}, "manual", "start", 1)
    assert intake.start_manual(store, workspace, "f", {"ref": "given"}).input == {"ref": "given"}
    assert jobs.run_claimed(store, run.id) == "succeeded"
    assert stored(store, run.id).output == {"ref": "SAMPLE"}


def test_start_manual_of_an_older_version_and_of_flows_that_cannot_run(store, workspace):
    deploy(store, workspace, sample=1)
    doc = deployments.document(store, workspace, "f", 1)
    doc["nodes"][1]["config"]["sample"] = 2
    deployments.deploy(store, workspace, "f", doc)
    assert intake.start_manual(store, workspace, "f").input == 2
    assert intake.start_manual(store, workspace, "f", version=1).input == 1
    with pytest.raises(intake.NotFound) as missing:
        intake.start_manual(store, workspace, "nope")
    assert missing.value.code == "not_found"
    deployments.undeploy(store, workspace, "f")
    with pytest.raises(intake.NotFound) as undeployed:
        intake.start_manual(store, workspace, "f")
    assert undeployed.value.code == "not_deployed"


def test_find_route_names_what_is_missing(store, workspace):
    deploy(store, workspace)
    assert intake.find_route(store, workspace, "/f-in/", "post").node_id == "hook"
    with pytest.raises(intake.NotFound) as caught:
        intake.find_route(store, workspace, "f-in", "GET")
    assert caught.value.code == "no_webhook" and f"GET /hooks/{workspace}/f-in" in caught.value.message


def test_webhook_routes_are_kept_per_process_forgotten_at_deploy_and_seen_from_elsewhere_within_the_bound(
        store, workspace, monkeypatch):
    from runtime.models import WebhookRoute
    from runtime.readthrough import ReadThrough
    now = [0.0]
    monkeypatch.setattr(intake, "_routes", ReadThrough(intake.ROUTES_FRESH_S, clock=lambda: now[0]))
    queries = []
    real = store.reader.connect
    monkeypatch.setattr(store, "reader", type("Counted", (), {"connect": lambda self: queries.append(1) or real()})())
    with pytest.raises(intake.NotFound):
        intake.find_route(store, workspace, "g-in", "POST")
    deploy(store, workspace, "g")  # this process: forgotten at once, the 404 kept above included
    assert intake.find_route(store, workspace, "/g-in/", "post").flow_id == "g"
    assert intake.find_route(store, workspace, "g-in", "POST").version == 1
    assert len(queries) == 2  # the second lookup was kept
    with store.sessions.begin() as s:  # as another process's undeploy would: no forget here
        s.query(WebhookRoute).filter_by(workspace=workspace, flow_id="g").delete()
    assert intake.find_route(store, workspace, "g-in", "POST").flow_id == "g"  # within the bound: still kept
    now[0] += intake.ROUTES_FRESH_S + 0.01
    with pytest.raises(intake.NotFound):
        intake.find_route(store, workspace, "g-in", "POST")
    deployments.deploy(store, workspace, "g", version=1)
    assert intake.find_route(store, workspace, "g-in", "POST").flow_id == "g"  # at once
    deployments.undeploy(store, workspace, "g")
    with pytest.raises(intake.NotFound):  # this process's undeploy: at once
        intake.find_route(store, workspace, "g-in", "POST")
