"""event.schedule: the latest due time of a deployed schedule trigger fires one run, once, across processes.
On PostgreSQL the schema is shared by the session's tests, so each test counts the runs of its own workspace."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from designer import drafts
from runtime import deployments, schedules
from runtime.models import FlowVersion, Run, Workspace

DOC = {"schema": "crossdock.flow/1", "id": "nightly", "name": "nightly",
       "nodes": [{"id": "tick", "type": "event.schedule", "config": {"cron": "0 2 * * *", "input": {"full": True}}},
                 {"id": "map", "type": "transform.map", "config": {"expression": "{'full': full}"}}],
       "edges": [{"id": "e1", "source": "tick", "source_port": "out", "target": "map", "target_port": "in"}]}
DEPLOYED_AT = dt.datetime(2026, 11, 25, 12, 0)


def _deploy(rt, workspace):
    drafts.create(rt, workspace, DOC)
    deployments.deploy(rt, workspace, "nightly", drafts.load_or_400(DOC))
    with rt.sessions.begin() as s:
        s.execute(update(FlowVersion).where(FlowVersion.workspace == workspace).values(created_at=DEPLOYED_AT))


def _runs(rt, workspace):
    with rt.sessions() as s:
        return list(s.scalars(select(Run).where(Run.workspace == workspace).order_by(Run.id)))


def test_a_due_time_fires_one_run_with_the_configured_input_and_only_once(rt, workspace):
    _deploy(rt, workspace)
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 1, 59))
    assert _runs(rt, workspace) == []  # 02:00 on the 25th was before the deploy
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 2, 0, 20))
    assert len(_runs(rt, workspace)) == 1
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 2, 0, 35))  # the next pass, or another worker
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 9, 0))
    [run] = _runs(rt, workspace)
    assert (run.trigger, run.trigger_node, run.input) == ("schedule", "tick", {"full": True})


def test_after_downtime_only_the_latest_due_time_fires(rt, workspace):
    _deploy(rt, workspace)
    schedules.fire_due(rt, dt.datetime(2026, 11, 29, 3, 0))
    assert len(_runs(rt, workspace)) == 1  # three nights missed: one run
    schedules.fire_due(rt, dt.datetime(2026, 11, 30, 2, 0))
    assert len(_runs(rt, workspace)) == 2


def test_an_undeployed_flow_does_not_fire(rt, workspace):
    _deploy(rt, workspace)
    deployments.undeploy(rt, workspace, "nightly")
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 2, 1))
    assert _runs(rt, workspace) == []


def test_a_suspended_workspace_does_not_fire_until_it_is_active_again(rt, workspace):
    _deploy(rt, workspace)
    with rt.sessions.begin() as s:
        s.execute(update(Workspace).where(Workspace.id == workspace).values(status="suspended"))
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 2, 1))
    assert _runs(rt, workspace) == []
    with rt.sessions.begin() as s:
        s.execute(update(Workspace).where(Workspace.id == workspace).values(status="active"))
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 2, 2))
    assert len(_runs(rt, workspace)) == 1


def test_due_is_the_latest_time_at_or_before_now():
    assert schedules.due("0 2 * * *", dt.datetime(2026, 11, 26, 2, 0), DEPLOYED_AT) == dt.datetime(2026, 11, 26, 2, 0)
    assert schedules.due("*/15 * * * *", dt.datetime(2026, 11, 26, 2, 14), DEPLOYED_AT) == dt.datetime(2026, 11, 26, 2, 0)
