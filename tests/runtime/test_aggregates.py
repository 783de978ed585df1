"""The aggregate's groups and parts in the database (runtime/aggregates.py): a part stored once however often it
comes, the group closed once (complete, or timed out at its deadline) and then closed to new parts, parts gathered
from many threads at once, a worker killed mid-aggregate (the run resumed elsewhere, nothing lost or doubled), and
the rows deleted with their workspace. Both backends."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, update

from nodes.base import NodeError
from runtime import aggregates, deployments, history, intake, jobs, tenancy
from runtime.aggregate_models import AggregateGroup, AggregatePart
from runtime.models import Flow, Run, utcnow
from support.flowdocs import edge


def gather(rt, workspace, run_id, correlation, position, count, part=None, timeout_s=60.0, now=None, node="gather"):
    return aggregates.gather(rt.engine, workspace, "f", node, run_id, correlation, position, count,
                             part if part is not None else {"at": position}, timeout_s, now)


def stored_parts(rt, workspace) -> int:
    with rt.read_sessions() as s:
        return s.scalar(select(func.count()).select_from(AggregatePart).where(AggregatePart.workspace == workspace))


def test_a_part_is_stored_once_however_often_it_comes_and_the_last_one_completes_the_group(store, workspace):
    opened = gather(store, workspace, 11, "PO-1", 1, 3)
    assert (opened.owner, opened.stored, opened.status, opened.received, opened.owner_run) == (True, True, "open", 1,
                                                                                               "11")
    assert 59 < opened.wait_s <= 60 and opened.parts is None
    again = gather(store, workspace, 11, "PO-1", 1, 3)  # the owner's message once more (a retry, a wake)
    assert (again.owner, again.stored, again.received) == (True, False, 1)
    other = gather(store, workspace, 12, "PO-1", 0, 3, {"at": "zero"})
    assert (other.owner, other.stored, other.completed, other.owner_run) == (False, True, False, "11")
    assert not gather(store, workspace, 12, "PO-1", 0, 3).stored  # redelivered: no second part
    last = gather(store, workspace, 13, "PO-1", 2, 3)
    assert (last.owner, last.completed, last.received) == (False, True, 3)
    done = gather(store, workspace, 11, "PO-1", 1, 3)
    assert (done.status, done.parts, done.missing) == ("complete", [{"at": "zero"}, {"at": 1}, {"at": 2}], [])
    assert stored_parts(store, workspace) == 3
    replay = aggregates.gather(store.engine, workspace, "f", "gather", 99, "PO-1", 1, 3, {"at": 1}, 60, replays={11})
    assert replay.owner and replay.parts == done.parts  # a replay of the owner's run emits the result again
    assert not gather(store, workspace, 99, "PO-1", 1, 3).owner  # another run's is not
    # the same correlation at another node is another group
    assert gather(store, workspace, 11, "PO-1", 0, 1, node="other").status == "complete"


def test_the_deadline_closes_the_group_once_and_a_later_part_is_refused(store, workspace):
    opened = gather(store, workspace, 21, "PO-2", 0, 3, timeout_s=5)
    gather(store, workspace, 22, "PO-2", 2, 3)
    before = gather(store, workspace, 21, "PO-2", 0, 3, now=utcnow() + dt.timedelta(seconds=4))
    assert before.status == "open" and 0 < before.wait_s <= 1 and 4 <= before.age_s < 5
    later = utcnow() + dt.timedelta(seconds=6)
    timed_out = gather(store, workspace, 21, "PO-2", 0, 3, now=later)
    assert (timed_out.status, timed_out.parts, timed_out.missing) == ("timed_out", [{"at": 0}, {"at": 2}], [1])
    with pytest.raises(NodeError) as err:
        gather(store, workspace, 23, "PO-2", 1, 3)
    assert (err.value.code, err.value.field) == ("group_closed", "correlation")
    assert stored_parts(store, workspace) == 2  # the late part is in no group
    # the owner's message run again (its worker died before the run was stored) gets the same result
    assert gather(store, workspace, 21, "PO-2", 0, 3, now=later + dt.timedelta(seconds=9)) == timed_out
    assert opened.group == timed_out.group


def test_a_part_that_does_not_fit_its_group_is_refused_naming_the_field(store, workspace):
    gather(store, workspace, 31, "PO-3", 0, 2)
    with pytest.raises(NodeError) as err:
        gather(store, workspace, 32, "PO-3", 1, 4)
    assert (err.value.code, err.value.field) == ("count_mismatch", "count")
    with pytest.raises(NodeError) as err:
        gather(store, workspace, 32, "PO-3", 2, 2)
    assert (err.value.code, err.value.field) == ("position_out_of_range", "index")
    assert stored_parts(store, workspace) == 1


def test_parts_gathered_by_many_threads_at_once_are_each_stored_and_counted_once(store, workspace):
    count, errors, completed = 120, [], []

    def bring(offset: int) -> None:
        try:
            for i in range(count):
                position = (i + offset) % count
                if gather(store, workspace, 40 + offset, "PO-4", position, count).completed:
                    completed.append(position)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=bring, args=(k * 30,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(completed) == 1  # exactly one part was the last one missing
    with store.read_sessions() as s:
        group = s.scalars(select(AggregateGroup).where(AggregateGroup.workspace == workspace)).one()
    assert (group.received, stored_parts(store, workspace)) == (count, count)
    owner = gather(store, workspace, group.owner_run, "PO-4", group.owner_position, count)
    assert owner.status == "complete" and owner.parts == [{"at": i} for i in range(count)]


def split_flow(flow_id: str) -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
            "nodes": [{"id": "start", "type": "event.manual", "config": {}},
                      {"id": "split", "type": "transform.split", "config": {"lines": "order.lines"}},
                      {"id": "gather", "type": "transform.aggregate",
                       "config": {"part": "line", "timeout_s": 600,
                                  "result": "{'lines': parts, 'complete': complete}"}},
                      {"id": "done", "type": "control.discard", "config": {"reason": "the run's output"}}],
            "edges": [edge(1, "start", "split"), edge(2, "split", "gather"), edge(3, "split", "done", "empty"),
                      edge(4, "gather", "done"), edge(5, "gather", "done", "partial")]}


class StopsAfter:
    """Stands for the worker's `stopping` event: set once `steps` steps ran (the executor asks after each step)."""

    def __init__(self, steps: int):
        self.left = steps

    def is_set(self) -> bool:
        self.left -= 1
        return self.left <= 0


@pytest.fixture
def order_run(store, workspace):
    """A stored, queued run of a 200-line order through split -> aggregate; the test plays its workers."""
    doc = split_flow("agg-kill")
    with store.sessions.begin() as s:
        s.add(Flow(workspace=workspace, id=doc["id"], name=doc["id"], document=doc))
    version = deployments.deploy(store, workspace, doc["id"], doc)
    lines = [{"sku": f"S{i}", "qty": i} for i in range(200)]
    run = intake.start(store, workspace, doc["id"], version, {"order": {"lines": lines}}, trigger="manual")
    stopping = store.queue.stopping
    yield run.id, lines
    store.queue.stopping = stopping


def test_a_worker_killed_mid_aggregate_loses_nothing_and_the_next_one_emits_every_line_once(store, workspace,
                                                                                           order_run):
    run_id, lines = order_run
    row = jobs._claim(store, run_id)
    store.queue.stopping = StopsAfter(2 + 100)  # trigger, split, then 100 of the 200 parts ...
    outcome = jobs._execute(store, row, [])
    assert outcome.status == "retry"  # ... and the worker dies there: nothing of the run is stored
    assert stored_parts(store, workspace) == 100
    store.queue.stopping = threading.Event()
    with store.sessions.begin() as s:  # its lease runs out; another worker takes the run back and executes it
        s.execute(update(Run).where(Run.id == run_id).values(lease_until=utcnow() - dt.timedelta(seconds=1)))
    assert jobs.release_expired_leases(store) >= 1
    assert jobs.run_claimed(store, run_id) == "succeeded"
    run = history.get_run(store, workspace, run_id)
    assert run["output"] == {"lines": lines, "complete": True}
    assert stored_parts(store, workspace) == 200
    gather = [s for s in run["steps"] if s["node_id"] == "gather"]
    assert [s.get("port") for s in gather if s.get("port")] == ["out"]  # emitted once


def test_a_run_handed_back_mid_aggregate_goes_on_from_its_checkpoint(store, workspace, order_run):
    run_id, lines = order_run
    store.queue.stopping = StopsAfter(2 + 120)
    assert jobs.run_claimed(store, run_id) == "queued"  # a stopping worker hands the rest back
    row = history.get_run(store, workspace, run_id)
    assert stored_parts(store, workspace) == 120 and row["status"] == "queued"
    store.queue.stopping = threading.Event()
    assert jobs.run_claimed(store, run_id) == "succeeded"
    run = history.get_run(store, workspace, run_id)
    assert run["output"] == {"lines": lines, "complete": True}
    gather = [s for s in run["steps"] if s["node_id"] == "gather"]
    assert len(gather) == 201 and [s.get("port") for s in gather if s.get("port")] == ["out"]


def test_groups_closed_or_past_their_deadline_as_long_ago_as_runs_are_kept_are_pruned_with_their_parts(store,
                                                                                                        workspace):
    gather(store, workspace, 61, "done", 0, 1)  # complete at once
    gather(store, workspace, 62, "open", 0, 2, timeout_s=3600)
    gather(store, workspace, 63, "forgotten", 0, 2, timeout_s=1)  # its owner never came back
    later = utcnow() + dt.timedelta(seconds=60)
    assert aggregates.prune(store, later, batch=1) >= 2
    with store.read_sessions() as s:
        left = s.scalars(select(AggregateGroup.correlation).where(AggregateGroup.workspace == workspace)).all()
    assert left == ["open"] and stored_parts(store, workspace) == 1
    assert gather(store, workspace, 64, "done", 0, 1).owner  # a pruned group's correlation opens a new group


def test_deleting_the_workspace_deletes_its_groups_and_parts(store, workspace, partner):
    gather(store, workspace, 51, "PO-5", 0, 2)
    gather(store, workspace, 52, "PO-5", 1, 2)
    tenancy.remove(store, partner, workspace)
    with store.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(AggregateGroup).where(
            AggregateGroup.workspace == workspace)) == 0
    assert stored_parts(store, workspace) == 0
