"""The Runtime: workspaces, the plan cache behind plan_for, and workers that pick up what a previous
process left behind (runs queued without a job, runs whose worker died); on both backends."""
from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import func, select, update

from runtime import wiring, deployments, history, intake, plan
from runtime.wiring import Runtime
from runtime.models import Flow, Run, Workspace, utcnow
from runtime.plan import PlanError
from support import wait_for
from support.flowdocs import done


def _runtimes(settings):
    made = []

    def make() -> Runtime:
        made.append(Runtime(settings))
        return made[-1]

    yield make
    for rt in made:
        rt.close()


@pytest.fixture
def runtimes(settings):
    """Runtimes on this test's database, closed at the end."""
    yield from _runtimes(settings)


@pytest.fixture
def lone_runtimes(lone_settings):
    """Runtimes on a database of this test's own: for a test that picks up every queued run it finds."""
    yield from _runtimes(lone_settings)


def deploy(rt, workspace, flow_id="f", expression="{'ref': ref}") -> int:
    doc = {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
           "nodes": [{"id": "start", "type": "event.manual"},
                     {"id": "map", "type": "transform.map", "config": {"expression": expression}}, done()],
           "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "map", "target_port": "in"},
                     {"id": "e2", "source": "map", "source_port": "out", "target": "done", "target_port": "in"}]}
    with rt.sessions.begin() as s:
        if s.get(Flow, (workspace, flow_id)) is None:
            s.add(Flow(workspace=workspace, id=flow_id, name=flow_id, document=doc))
    return deployments.deploy(rt, workspace, flow_id, doc)


def test_ensure_workspace_is_idempotent_and_keeps_the_name(runtimes, workspace):
    rt = runtimes()
    rt.ensure_workspace(workspace, "Acme")
    rt.ensure_workspace(workspace, "Renamed")
    rt.ensure_workspace(workspace)
    with rt.sessions() as s:
        rows = s.scalars(select(Workspace).where(Workspace.id == workspace)).all()
        assert s.get(Workspace, "default") is not None  # every runtime has it
    assert [r.name for r in rows] == ["Acme"]


def test_concurrent_ensure_workspace_creates_one_row(runtimes):
    rt, fresh = runtimes(), f"ws{uuid.uuid4().hex[:10]}"
    errors, barrier = [], threading.Barrier(4)

    def ensure():
        barrier.wait()
        try:
            rt.ensure_workspace(fresh)
        except Exception as err:  # e.g. two processes starting at once on an empty database
            errors.append(err)

    threads = [threading.Thread(target=ensure) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Workspace).where(Workspace.id == fresh)) == 1


def test_a_second_runtime_on_the_same_database_starts_cleanly(runtimes, workspace):
    first = runtimes()
    first.ensure_workspace(workspace)
    second = runtimes()  # migrates again and ensures `default` again
    with second.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Workspace).where(Workspace.id == "default")) == 1
        assert s.get(Workspace, workspace) is not None


def test_plan_for_compiles_a_version_once(runtimes, workspace, monkeypatch):
    rt = runtimes()
    rt.ensure_workspace(workspace)
    compiled = []
    real = plan.compile
    # the deploy starts planning its version in the background; plan_for waits for that build
    monkeypatch.setattr(plan, "compile", lambda *a: compiled.append(a[3]) or real(*a))
    deploy(rt, workspace)
    deploy(rt, workspace, expression="{'v2': ref}")
    one = rt.plan_for(workspace, "f", 1)
    assert rt.plan_for(workspace, "f", 1) is one
    two = rt.plan_for(workspace, "f", 2)
    assert two is not one and (one.version, two.version) == (1, 2)
    assert sorted(compiled) == [1, 2]


def test_plan_for_a_missing_version_is_a_plan_error_and_is_not_cached(runtimes, workspace):
    rt = runtimes()
    rt.ensure_workspace(workspace)
    with pytest.raises(PlanError, match="no version 1"):
        rt.plan_for(workspace, "f", 1)
    deploy(rt, workspace)
    assert rt.plan_for(workspace, "f", 1).version == 1


def test_start_workers_picks_up_runs_a_previous_process_left(lone_runtimes, workspace, monkeypatch):
    runtimes = lone_runtimes
    old = runtimes()
    old.ensure_workspace(workspace)
    deploy(old, workspace)
    monkeypatch.setattr(old.queue, "enqueue_run", lambda run_id, delay_s=0.0: None)  # its jobs die with it
    left = intake.start(old, workspace, "f", 1, {"ref": "queued"}, trigger="manual", trigger_node="start")
    crashed = intake.start(old, workspace, "f", 1, {"ref": "mid-run"}, trigger="manual", trigger_node="start")
    with old.sessions.begin() as s:
        s.execute(update(Run).where(Run.id == crashed.id).values(
            status="running", attempt=1, worker="gone:1", lease_until=utcnow() - dt.timedelta(seconds=1)))
    old.close()

    new = runtimes()
    new.start_workers()

    def done(run_id):
        run = history.get_run(new, workspace, run_id)
        return run if run["status"] == "succeeded" else None

    assert wait_for(lambda: done(left.id))["output"] == {"ref": "queued"}
    assert wait_for(lambda: done(crashed.id))["output"] == {"ref": "mid-run"}
    assert history.get_run(new, workspace, crashed.id)["attempt"] == 2
