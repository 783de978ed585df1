"""The exception workbench lists every failed run (issue 14): one failing in a node with no error path, one over its
expression budget, one with an unrouted message and one that could not even be planned each appear with their class,
the last one too although its failure left no step; and the partner-wide view spans the workspaces it is given only."""
from __future__ import annotations

import pytest

from runtime import deployments, egress, exceptions, intake
from runtime.exceptions import Filter
from runtime.models import Run
from support import wait_for
from support.deploys import deploy
from support.flowdocs import done, edge


def flow(flow_id: str, node: dict, wired: bool = True) -> dict:
    """manual start -> `node` (id "step") -> an explicit end, or nothing after `node` when not `wired`."""
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
            "nodes": [{"id": "start", "type": "event.manual", "config": {}}, {**node, "id": "step", "name": "The step"},
                      *([done()] if wired else [])],
            "edges": [edge(1, "start", "step"), *([edge(2, "step", "done")] if wired else [])]}


def failed(rt, workspace: str, flow_id: str, message=None, version: int | None = None) -> int:
    if version is None:
        run_id = intake.start_manual(rt, workspace, flow_id, message if message is not None else {"qty": 1}).id
    else:  # as a webhook or a schedule starts it: without planning the version first
        run_id = intake.start(rt, workspace, flow_id, version, message, trigger="manual", trigger_node="start").id

    def status():
        with rt.sessions() as s:
            st = s.get(Run, run_id).status
        return st if st in ("succeeded", "failed", "canceled") else None
    assert wait_for(status) == "failed"
    return run_id


CASES = [  # (flow id, its failing node, wired, the class the workbench gives it)
    ("no-path", {"type": "connector.http", "config": {"method": "POST", "url": "http://127.0.0.1:9/x",
                                                     "retry": {"max_attempts": 1, "backoff_s": 0}}}, True,
     "connection"),
    ("budget", {"type": "transform.map", "config": {"expression": "[1..9999999]"}}, True, "budget"),
    ("unrouted", {"type": "transform.map", "config": {"expression": "{'qty': qty}"}}, False, "unrouted"),
]


@pytest.mark.parametrize("flow_id,node,wired,klass", CASES, ids=[c[0] for c in CASES])
def test_a_failed_run_without_an_error_path_is_listed_with_its_class(rt, workspace, flow_id, node, wired, klass):
    doc = flow(flow_id, node, wired)
    egress.allow_origin(rt, workspace, "http://127.0.0.1:9")  # nothing listens there: a connection error
    if wired:
        deploy(rt, workspace, doc)
    else:  # validate and deploy refuse an unwired port: the version came from before they did
        deploy(rt, workspace, flow(flow_id, node))
        deployments.deploy(rt, workspace, flow_id, doc)
    run_id = failed(rt, workspace, flow_id)
    items, _ = exceptions.listed(rt, workspace, Filter(flow_id=flow_id))
    assert [(x["run_id"], x["class"], x["node_id"]) for x in items] == [(run_id, klass, "step")]
    assert [x["run_id"] for x in exceptions.listed(rt, workspace, Filter(kind=klass))[0]] == [run_id]


def test_a_run_that_could_not_be_planned_is_listed_too(rt, workspace):
    doc = flow("unplanned", {"type": "transform.map", "config": {"expression": "{'qty': qty}"}})
    deploy(rt, workspace, doc)
    broken = {**doc, "nodes": [doc["nodes"][0], {**doc["nodes"][1], "type": "transform.nonesuch"}, doc["nodes"][2]]}
    version = deployments.deploy(rt, workspace, "unplanned", broken)
    run_id = failed(rt, workspace, "unplanned", {"qty": 7}, version)
    items, _ = exceptions.listed(rt, workspace, Filter(flow_id="unplanned"))
    assert [(x["run_id"], x["code"], x["class"]) for x in items] == [(run_id, "not_runnable", "not_runnable")]
    [one] = items
    assert exceptions.get(rt, workspace, one["id"])["payload"] == {"qty": 7}  # the run's input: a retry starts there
    assert exceptions.listed(rt, workspace, Filter(flow_id="unplanned"))[0] == items  # listed once, however often read
