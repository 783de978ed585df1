"""Retention: finished runs go with their steps and payloads by age and by count per workspace; queued
and running runs stay; open dead letters stay until resolved, then age out like runs."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from support import wait_for
from support.flowdocs import http_sink, order

from runtime import retention
from runtime.models import DeadLetter, Payload, Run, Step, utcnow
from runtime.settings import from_env

NOW = utcnow()


def add_run(rt, workspace, *, days_ago=0.0, status="succeeded") -> int:
    at = NOW - dt.timedelta(days=days_ago)
    with rt.sessions.begin() as s:
        run = Run(workspace=workspace, flow_id="f", version=1, status=status, trigger="manual", created_at=at)
        s.add(run)
        s.flush()
        s.add(Step(run_id=run.id, seq=1, node_id="n", node_type="transform.map", status="succeeded", started_at=at,
                   truncated=True))
        s.add(Payload(run_id=run.id, step_seq=1, kind="input", data={"big": True}))
        return run.id


def add_dead_letter(rt, workspace, run_id, *, resolved_days_ago=None) -> int:
    with rt.sessions.begin() as s:
        d = DeadLetter(workspace=workspace, run_id=run_id, flow_id="f", version=1, node_id="n",
                       error_class="business", code="x", message="m", payload={"p": 1}, created_at=NOW)
        if resolved_days_ago is not None:
            d.status, d.resolved_at = "resolved", NOW - dt.timedelta(days=resolved_days_ago)
        s.add(d)
        s.flush()
        return d.id


def left(rt, model, ids) -> set[int]:
    column = model.run_id if model is not Run and model is not DeadLetter else model.id
    with rt.sessions() as s:
        return set(s.scalars(select(column).where(column.in_(ids))))


def test_old_finished_runs_go_with_their_steps_and_payloads(rt, workspace):
    old = [add_run(rt, workspace, days_ago=40, status=st) for st in ("succeeded", "failed", "failed")]
    waiting = add_run(rt, workspace, days_ago=40, status="queued")
    recent = add_run(rt, workspace, days_ago=1)
    done = retention.prune(rt, now=NOW, batch=2)  # batches of two: the loop must go round
    assert done.runs >= 3
    assert left(rt, Run, old) == set() and left(rt, Step, old) == set() and left(rt, Payload, old) == set()
    assert left(rt, Run, [waiting, recent]) == {waiting, recent}
    assert left(rt, Step, [waiting, recent]) == {waiting, recent}


def test_count_limit_keeps_the_newest_finished_runs_per_workspace(rt, workspace):
    other = workspace + "b"
    rt.ensure_workspace(other)
    mine = [add_run(rt, workspace) for _ in range(6)]
    running = add_run(rt, workspace, status="running")
    theirs = [add_run(rt, other) for _ in range(2)]
    cutoff = NOW - dt.timedelta(days=30)
    assert retention.prune_workspace(rt, workspace, cutoff, max_runs=3, batch=2) == 3
    assert left(rt, Run, mine + [running]) == set(mine[3:]) | {running}
    assert retention.prune_workspace(rt, other, cutoff, max_runs=3) == 0
    assert left(rt, Run, theirs) == set(theirs)


def test_dead_letters_stay_until_resolved(rt, workspace):
    run_id = add_run(rt, workspace, days_ago=40, status="failed")
    still_open = add_dead_letter(rt, workspace, run_id)
    resolved_long_ago = add_dead_letter(rt, workspace, run_id, resolved_days_ago=40)
    resolved_lately = add_dead_letter(rt, workspace, run_id, resolved_days_ago=1)
    done = retention.prune(rt, now=NOW)
    assert done.dead_letters >= 1
    assert left(rt, Run, [run_id]) == set()  # the run went; its open dead letter did not
    assert left(rt, DeadLetter, [still_open, resolved_long_ago, resolved_lately]) == {still_open, resolved_lately}


def test_pruning_real_runs_leaves_the_open_dead_letter_workable(rt, client, workspace, http_target):
    http_target.script = [(422, {"error": "unknown item"}, {}), (200, {}, {})]
    assert client.post("/api/v1/flows", json=http_sink("f-ret", http_target.url)).status_code == 201
    assert client.post("/api/v1/flows/f-ret/deploy").status_code == 201
    ids = []
    for n in range(2):
        ids.append(client.post(f"/hooks/{workspace}/orders", json=order(f"R-{n}")).json["run_id"])
        wait_for(lambda: client.get(f"/api/v1/runs/{ids[-1]}").json["run"]["status"] in ("succeeded", "failed"))
    assert retention.prune_workspace(rt, workspace, NOW - dt.timedelta(days=30), max_runs=1) == 1
    assert client.get(f"/api/v1/runs/{ids[0]}").status_code == 404
    assert client.get(f"/api/v1/runs/{ids[1]}").json["run"]["status"] == "succeeded"
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Step).where(Step.run_id == ids[0])) == 0
    letters = client.get("/api/v1/dead-letters").json["dead_letters"]
    assert [(d["run_id"], d["payload"]) for d in letters] == [(ids[0], {"ref": "R-0", "qty": 1})]
    with rt.sessions.begin() as s:
        s.execute(update(DeadLetter).where(DeadLetter.run_id == ids[0]).values(
            status="resolved", resolved_at=NOW - dt.timedelta(days=31)))
    retention.prune(rt, now=NOW)
    assert client.get("/api/v1/dead-letters?status=resolved").json["dead_letters"] == []


def test_policy_comes_from_the_environment():
    s = from_env({"CROSSDOCK_RETENTION_DAYS": "7.5", "CROSSDOCK_RETENTION_MAX_RUNS": "1000"})
    assert (s.retention_days, s.retention_max_runs) == (7.5, 1000)
    assert (from_env({}).retention_days, from_env({}).retention_max_runs) == (30.0, 100_000)
