"""runtime/waits.py: control.wait's waits and arrivals in the database. One arrival completes one wait even when
waits and arrivals of a key race from many threads; a held arrival past its hold becomes one dead letter, whichever
process sweeps; a deleted workspace takes its rows along; arrival triggers are found through the wiring."""
from __future__ import annotations

import datetime as dt
import threading
from types import SimpleNamespace

from sqlalchemy import func, select

from runtime import tenancy, waits
from runtime.models import DeadLetter, utcnow
from runtime.wait_models import WaitArrival, WaitRow
from support.flowdocs import edge


def step(workspace: str, run_id: int, branch: str = "") -> waits.StepWaits:
    return SimpleNamespace(workspace=workspace, flow_id="f", flow_version=1, node_id="wait", run_id=str(run_id),
                           branch=branch)


def test_waits_and_arrivals_racing_on_one_key_match_one_to_one(store, workspace):
    n = 8
    results: dict[str, list] = {"wait": [], "arrive": []}
    barrier = threading.Barrier(2 * n)

    def waiter(i: int) -> None:
        barrier.wait()
        results["wait"].append(waits.StepWaits(store, step(workspace, 100 + i)).wait("4711", 60))

    def arriver(i: int) -> None:
        barrier.wait()
        results["arrive"].append(waits.StepWaits(store, step(workspace, 200 + i)).arrive("4711", {"n": i}, 600))

    threads = [threading.Thread(target=waiter, args=(i,)) for i in range(n)]
    threads += [threading.Thread(target=arriver, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results["wait"]) == len(results["arrive"]) == n

    with store.sessions() as s:
        rows = s.scalars(select(WaitRow).where(WaitRow.workspace == workspace)).all()
        arrivals = s.scalars(select(WaitArrival).where(WaitArrival.workspace == workspace)).all()
    # every wait found its arrival (each side commits its row before looking for the other's), each once
    assert sorted(r.status for r in rows) == ["completed"] * sum(1 for r in results["wait"]
                                                                  if r["status"] == "completed") + \
        ["matched"] * sum(1 for r in results["wait"] if r["status"] == "waiting")
    assert all(a.status == "taken" for a in arrivals)
    assert sorted(a.taken_by for a in arrivals) == sorted(r.run_id for r in rows)
    assert sorted(r.arrival["n"] for r in rows) == list(range(n))


def test_the_same_wait_and_the_same_arrival_again_change_nothing(store, workspace):
    held = waits.StepWaits(store, step(workspace, 7)).arrive("A", {"doc": 1}, 600)
    again = waits.StepWaits(store, step(workspace, 7)).arrive("A", {"doc": 1}, 600)
    assert "held_until" in held and again["held_until"] == held["held_until"]
    first = waits.StepWaits(store, step(workspace, 8)).wait("A", 60)
    assert first["status"] == "completed" and first["arrival"] == {"doc": 1}
    assert waits.StepWaits(store, step(workspace, 8)).wait("A", 60)["status"] == "completed"  # a re-run of the node
    assert waits.StepWaits(store, step(workspace, 7)).arrive("A", {"doc": 1}, 600)["delivered_to"] == "8"
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(WaitRow).where(WaitRow.workspace == workspace)) == 1
        assert s.scalar(select(func.count()).select_from(WaitArrival).where(WaitArrival.workspace == workspace)) == 1


def test_a_held_arrival_past_its_hold_becomes_one_dead_letter(store, workspace):
    waits.StepWaits(store, step(workspace, 9)).arrive("B", {"doc": "945"}, 30)
    assert waits.sweep(store) == 0  # still held
    later = utcnow() + dt.timedelta(seconds=31)
    assert waits.sweep(store, later) == 1
    assert waits.sweep(store, later) == 0  # once, whoever sweeps again
    with store.sessions() as s:
        letters = s.scalars(select(DeadLetter).where(DeadLetter.workspace == workspace)).all()
        arrival = s.scalars(select(WaitArrival).where(WaitArrival.workspace == workspace)).one()
    assert [(d.code, d.run_id, d.node_id, d.payload) for d in letters] == [("unmatched_arrival", 9, "wait",
                                                                             {"doc": "945"})]
    assert arrival.status == "unmatched"
    assert waits.StepWaits(store, step(workspace, 10)).wait("B", 60)["status"] == "waiting"  # not taken any more


def test_a_wait_past_its_deadline_times_out_and_an_arrival_then_is_held(store, workspace):
    waiting = waits.StepWaits(store, step(workspace, 11))
    assert waiting.wait("C", 1)["status"] == "waiting"
    with store.sessions.begin() as s:  # its deadline passed
        s.execute(WaitRow.__table__.update().where(WaitRow.workspace == workspace)
                  .values(deadline=utcnow() - dt.timedelta(seconds=1)))
    assert "held_until" in waits.StepWaits(store, step(workspace, 12)).arrive("C", {"late": True}, 600)
    state = waiting.wait("C", 1)
    assert state["status"] == "timed_out" and state["arrival"] is None


def test_deleting_a_workspace_deletes_its_waits_and_arrivals(store, workspace, partner):
    waits.StepWaits(store, step(workspace, 13)).wait("D", 60)
    waits.StepWaits(store, step(workspace, 14)).arrive("E", {}, 600)
    tenancy.remove(store, partner, workspace)
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(WaitRow).where(WaitRow.workspace == workspace)) == 0
        assert s.scalar(select(func.count()).select_from(WaitArrival).where(WaitArrival.workspace == workspace)) == 0


def test_arrival_triggers_are_those_that_reach_a_wait_arrival_port():
    doc = {"nodes": [{"id": "release", "type": "event.webhook"}, {"id": "poll", "type": "event.poll"},
                     {"id": "read", "type": "edi.read"}, {"id": "wait", "type": "control.wait"},
                     {"id": "other", "type": "event.schedule"}, {"id": "end", "type": "control.discard"}],
           "edges": [edge(1, "release", "wait"), edge(2, "poll", "read"),
                     {**edge(3, "read", "wait"), "target_port": "arrival"}, edge(4, "other", "end")]}
    assert waits.arrival_triggers(doc) == frozenset({"poll"})
    doc["nodes"][3]["disabled"] = True
    assert waits.arrival_triggers(doc) == frozenset()


def test_triggers_that_bring_parts_to_an_aggregate_of_other_runs_are_arrival_triggers_too():
    """A run that opened a group parks at the aggregate; the runs bringing its other parts must not wait behind it.
    Parts of a split are gathered within their own run: a trigger whose path splits first is not one."""
    doc = {"nodes": [{"id": "parts", "type": "event.webhook"}, {"id": "order", "type": "event.webhook"},
                     {"id": "split", "type": "transform.split"}, {"id": "gather", "type": "transform.aggregate"}],
           "edges": [edge(1, "parts", "gather"), edge(2, "order", "split"), edge(3, "split", "gather")]}
    assert waits.arrival_triggers(doc) == frozenset({"parts"})


def test_runs_of_an_arrival_trigger_get_no_sequence_key_whatever_starts_them(store, workspace):
    """keys_for is where webhook intake, polls and business events take their keys from: an arrival's run ordered
    behind the parked run of its key would wait there until that run timed out."""
    from designer import drafts
    from runtime import deployments

    doc = {"schema": "crossdock.flow/1", "id": "release", "name": "release", "settings": {"sequence_key": "n"},
           "nodes": [{"id": "release", "type": "event.webhook", "config": {"path": "r"}},
                     {"id": "shipped", "type": "event.webhook", "config": {"path": "s"}},
                     {"id": "wait", "type": "control.wait",
                      "config": {"key": "n", "arrival_key": "n", "timeout_s": 60}},
                     {"id": "done", "type": "control.discard", "config": {"reason": "r"}}],
           "edges": [edge(1, "release", "wait"), {**edge(2, "shipped", "wait"), "target_port": "arrival"},
                     edge(3, "wait", "done"), edge(4, "wait", "done", "timeout")]}
    drafts.create(store, workspace, doc)
    version = deployments.deploy(store, workspace, "release", drafts.load_or_400(doc))
    assert store.keys_for(workspace, "release", version, "release").sequence_key is not None
    assert store.keys_for(workspace, "release", version).sequence_key is not None
    keys = store.keys_for(workspace, "release", version, "shipped")
    assert keys.sequence_key is None and keys.business_key is not None  # still searchable by its business key
