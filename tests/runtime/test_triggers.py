"""The deployed-trigger index the maintenance pass reads: the deployed version's enabled trigger nodes of the asked
types, per workspace not suspended, each document read once per process."""
from __future__ import annotations

from sqlalchemy import event, update

from designer import drafts
from runtime import deployments, triggers
from runtime.models import Workspace

NODES = [{"id": "tick", "type": "event.schedule", "config": {"cron": "0 2 * * *"}},
         {"id": "off", "type": "event.schedule", "config": {"cron": "0 3 * * *"}, "disabled": True},
         {"id": "hook", "type": "event.webhook", "config": {"path": "t-orders"}},
         {"id": "map", "type": "transform.map", "config": {"expression": "$"}}]
EDGES = [{"id": "e1", "source": "tick", "source_port": "out", "target": "map", "target_port": "in"},
         {"id": "e2", "source": "hook", "source_port": "out", "target": "map", "target_port": "in"},
         {"id": "e3", "source": "off", "source_port": "out", "target": "map", "target_port": "in"}]


def _deploy(rt, workspace, flow_id, nodes=NODES, edges=EDGES, first=True):
    doc = {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id, "nodes": nodes, "edges": edges}
    if first:
        drafts.create(rt, workspace, doc)
    return deployments.deploy(rt, workspace, flow_id, drafts.load_or_400(doc))


def _mine(rt, workspace, types):
    return [(t.flow_id, t.version, t.node["id"]) for t in triggers.deployed(rt, types) if t.workspace == workspace]


def test_only_enabled_nodes_of_the_asked_types_in_deployed_versions(rt, workspace):
    _deploy(rt, workspace, "t-nightly")
    assert _mine(rt, workspace, {"event.schedule"}) == [("t-nightly", 1, "tick")]
    assert _mine(rt, workspace, {"event.schedule", "event.webhook"}) == [("t-nightly", 1, "tick"),
                                                                        ("t-nightly", 1, "hook")]
    assert _mine(rt, workspace, {"transform.map"}) == []  # not a trigger
    deployments.undeploy(rt, workspace, "t-nightly")
    assert _mine(rt, workspace, {"event.schedule"}) == []


def test_a_new_version_replaces_the_old_one(rt, workspace):
    _deploy(rt, workspace, "t-nightly")
    _deploy(rt, workspace, "t-nightly", NODES[2:], EDGES[1:2], first=False)
    assert _mine(rt, workspace, {"event.schedule"}) == []
    assert _mine(rt, workspace, {"event.webhook"}) == [("t-nightly", 2, "hook")]


def test_a_suspended_workspace_has_none(rt, workspace):
    _deploy(rt, workspace, "t-nightly")
    with rt.sessions.begin() as s:
        s.execute(update(Workspace).where(Workspace.id == workspace).values(status="suspended"))
    assert _mine(rt, workspace, {"event.schedule"}) == []


def test_a_version_document_is_read_once_per_process(rt, workspace):
    _deploy(rt, workspace, "t-nightly")
    triggers.deployed(rt, {"event.schedule"})
    documents = []

    def count(conn, cursor, statement, *args):
        if "document" in statement.lower():
            documents.append(statement)

    event.listen(rt.reader, "before_cursor_execute", count)
    try:
        assert _mine(rt, workspace, {"event.schedule"}) == [("t-nightly", 1, "tick")]
        assert _mine(rt, workspace, {"event.schedule"}) == [("t-nightly", 1, "tick")]
    finally:
        event.remove(rt.reader, "before_cursor_execute", count)
    assert documents == []


def test_one_workspace_only_when_asked_and_the_others_stay_known(rt, workspace):
    _deploy(rt, workspace, "t-nightly")
    other = workspace + "x"
    rt.ensure_workspace(other)
    _deploy(rt, other, "t-nightly")
    assert [(t.workspace, t.node["id"]) for t in triggers.deployed(rt, {"event.schedule"}, workspace)] == [
        (workspace, "tick")]
    assert _mine(rt, other, {"event.schedule"}) == [("t-nightly", 1, "tick")]
