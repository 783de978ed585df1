"""Business events between flows in the runtime (issue 16): an event emitted in flow A starts one run of each deployed
flow subscribed to it in A's workspace (by exact name or subject.*), none of a flow subscribed to another event or
of another workspace; the event and its runs are stored together, once per step (a retried, taken-over or
replayed step delivers nothing twice); a chain of flows emitting what starts the next is cut at the hop limit."""
from __future__ import annotations

import datetime as dt
import threading
import uuid

from sqlalchemy import func, select

from nodes.control_emit import MAX_HOPS
from runtime import business_events, intake, replay, tenancy
from runtime.context import DatabaseLedger, StepContext
from runtime.event_models import BusinessEvent, EventDelivery
from runtime.models import DeadLetter, Run, utcnow
from support import wait_for
from support.flowdocs import done, edge
from support.deploys import deploy


def emitter(flow_id: str = "a", event: str = "shipment.departed", **config) -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
            "nodes": [{"id": "start", "type": "event.manual", "config": {}},
                      {"id": "emit", "type": "control.emit", "config": {"event": event, **config}}],
            "edges": [edge(1, "start", "emit")]}


def subscriber(flow_id: str, event: str, **config) -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
            "nodes": [{"id": "on", "type": "event.subscribe", "config": {"event": event, **config}},
                      {"id": "map", "type": "transform.map", "config": {"expression": "$"}}, done()],
            "edges": [edge(1, "on", "map"), edge(2, "map", "done")]}


def relay(flow_id: str, listens: str, emits: str) -> dict:
    """Subscribed to `listens`, emits `emits`: flows of these in a ring are a loop."""
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
            "nodes": [{"id": "on", "type": "event.subscribe", "config": {"event": listens}},
                      {"id": "emit", "type": "control.emit", "config": {"event": emits}}],
            "edges": [edge(1, "on", "emit")]}



def runs_of(rt, workspace: str, flow_id: str) -> list[Run]:
    with rt.sessions() as s:
        return list(s.scalars(select(Run).where(Run.workspace == workspace, Run.flow_id == flow_id).order_by(Run.id)))


def ended(rt, run_id: int) -> Run:
    def check():
        with rt.sessions() as s:
            run = s.get(Run, run_id)
            return run if run.status in ("succeeded", "failed") else None
    return wait_for(check)


def all_ended(rt, workspace: str, flow_id: str, count: int) -> list[Run]:
    def check():
        found = runs_of(rt, workspace, flow_id)
        return found if len(found) == count and all(r.status in ("succeeded", "failed") for r in found) else None
    return wait_for(check)


def events_of(rt, workspace: str) -> list[BusinessEvent]:
    with rt.sessions() as s:
        return list(s.scalars(select(BusinessEvent).where(BusinessEvent.workspace == workspace)
                              .order_by(BusinessEvent.id)))


def test_an_event_starts_one_run_of_each_subscribed_flow_of_the_workspace(rt, workspace, partner):
    other = f"ws{uuid.uuid4().hex[:10]}"
    rt.ensure_workspace(other, partner_id=partner)
    deploy(rt, workspace, emitter(key="shipment.number", payload="{'number': shipment.number, 'carrier': 'UPS'}"))
    deploy(rt, workspace, subscriber("b", "shipment.departed"))
    deploy(rt, workspace, subscriber("c", "shipment.*", envelope=True))
    deploy(rt, workspace, subscriber("d", "order.released"))
    deploy(rt, other, subscriber("b", "shipment.departed"))

    a = ended(rt, intake.start_manual(rt, workspace, "a", {"shipment": {"number": "S-1"}}).id)
    assert a.status == "succeeded", a.error
    [b] = all_ended(rt, workspace, "b", 1)
    [c] = all_ended(rt, workspace, "c", 1)
    assert (b.status, c.status) == ("succeeded", "succeeded")
    assert b.input == {"number": "S-1", "carrier": "UPS"} and b.output == b.input
    assert (b.trigger, b.trigger_node, b.business_key) == ("event", "on", "S-1")  # the event's key: no flow key
    [event] = events_of(rt, workspace)
    assert c.input["id"] == event.id and c.input["name"] == "shipment.departed" and c.input["key"] == "S-1"
    assert c.input["payload"] == b.input and c.input["hops"] == 1
    assert c.input["emitted_by"] == {"flow": "a", "version": 1, "run": a.id, "node": "emit"}
    assert runs_of(rt, workspace, "d") == [] and runs_of(rt, other, "b") == []
    assert (event.name, event.key, event.subscribers, event.run_id, event.payload) == (
        "shipment.departed", "S-1", 2, a.id, {"number": "S-1", "carrier": "UPS"})
    with rt.sessions() as s:
        delivered = {(d.flow_id, d.node_id, d.run_id) for d in s.scalars(select(EventDelivery).where(
            EventDelivery.event_id == event.id))}
    assert delivered == {("b", "on", b.id), ("c", "on", c.id)}
    with rt.sessions() as s:
        step = s.get(Run, a.id)
    assert step.output["emitted"] == {"id": event.id, "name": "shipment.departed", "key": "S-1", "hops": 1,
                                      "subscribers": 2, "runs": [b.id, c.id], "duplicate": False}


def test_an_event_nobody_subscribes_to_is_stored_and_says_so(rt, workspace):
    deploy(rt, workspace, emitter(event="inventory.counted"))
    a = ended(rt, intake.start_manual(rt, workspace, "a", {"sku": "X"}).id)
    assert a.status == "succeeded"
    [event] = events_of(rt, workspace)
    assert (event.name, event.subscribers, event.payload, event.key) == ("inventory.counted", 0, {"sku": "X"}, None)
    assert a.output["emitted"]["subscribers"] == 0 and a.output["emitted"]["runs"] == []
    assert a.output["sku"] == "X"  # the message goes on with what was emitted beside it


def test_a_replayed_run_and_a_retried_step_deliver_nothing_twice(rt, workspace):
    deploy(rt, workspace, emitter())
    deploy(rt, workspace, subscriber("b", "shipment.departed"))
    a = ended(rt, intake.start_manual(rt, workspace, "a", {"n": 1}).id)
    all_ended(rt, workspace, "b", 1)
    again = ended(rt, replay.start(rt, workspace, a.id).id)
    assert again.status == "succeeded"
    assert again.output["emitted"]["duplicate"] is True
    assert again.output["emitted"]["runs"] == a.output["emitted"]["runs"]

    # the step run again for the same run (a worker died after it emitted; another took the run over), twice at once
    step = StepContext(workspace=workspace, flow_id="a", flow_version=1, run_id=a.id, params={},
                       ledger=DatabaseLedger(rt.sessions, workspace), business_key=None, root_run_id=a.id,
                       on_respond=lambda *args: None,
                       business_events=lambda ctx: business_events.StepEvents(rt, ctx, a.id)).at("emit", 2)
    receipts: list[dict] = []
    threads = [threading.Thread(target=lambda: receipts.append(step.business_events.emit(
        "shipment.departed", None, {"n": 1}))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r["id"] for r in receipts] == [a.output["emitted"]["id"]] * 2
    assert len(events_of(rt, workspace)) == 1 and len(runs_of(rt, workspace, "b")) == 1


def test_each_message_of_a_step_emits_its_own_event(rt, workspace):
    """Two messages through the same emit node in one run (a branch each) are two events, each once."""
    deploy(rt, workspace, subscriber("b", "shipment.departed"))
    made = []
    for branch in ("/split.0", "/split.1", "/split.0"):
        step = StepContext(workspace=workspace, flow_id="a", flow_version=1, run_id=7_000_000, params={},
                           ledger=DatabaseLedger(rt.sessions, workspace), business_key="S-9", root_run_id=7_000_000,
                           on_respond=lambda *args: None,
                           business_events=lambda ctx: business_events.StepEvents(rt, ctx, 7_000_000))
        made.append(step.at("emit", 1, branch).business_events.emit("shipment.departed", None, {"b": branch}))
    assert made[0]["id"] == made[2]["id"] != made[1]["id"]
    assert [m["key"] for m in made] == ["S-9"] * 3  # no key given: the run's business key
    assert len(all_ended(rt, workspace, "b", 2)) == 2


def test_a_loop_between_flows_is_cut_at_the_hop_limit(rt, workspace):
    deploy(rt, workspace, emitter(event="ping.sent"))
    deploy(rt, workspace, relay("pong", "ping.sent", "pong.sent"))
    deploy(rt, workspace, relay("ping", "pong.sent", "ping.sent"))
    ended(rt, intake.start_manual(rt, workspace, "a", {"ball": 1}).id)

    def chain_ended():
        found = events_of(rt, workspace)
        with rt.sessions() as s:
            letters = s.scalars(select(DeadLetter).where(DeadLetter.workspace == workspace)).all()
        return (found, letters) if len(found) == MAX_HOPS and letters else None
    found, letters = wait_for(chain_ended)
    assert [e.hops for e in found] == list(range(1, MAX_HOPS + 1))
    [letter] = letters
    assert letter.code == "event_loop" and letter.node_id == "emit"
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Run).where(Run.workspace == workspace)) == MAX_HOPS + 1
    assert len(events_of(rt, workspace)) == MAX_HOPS  # nothing more came of it


def test_deleting_the_workspace_deletes_its_events(store, workspace, partner):
    deploy(store, workspace, subscriber("b", "shipment.departed"))
    step = StepContext(workspace=workspace, flow_id="a", flow_version=1, run_id=1, params={},
                       ledger=DatabaseLedger(store.sessions, workspace), business_key=None, root_run_id=1,
                       on_respond=lambda *args: None,
                       business_events=lambda ctx: business_events.StepEvents(store, ctx, 1)).at("emit", 1)
    assert step.business_events.emit("shipment.departed", "S-1", {})["subscribers"] == 1
    tenancy.remove(store, partner, workspace)
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(BusinessEvent).where(
            BusinessEvent.workspace == workspace)) == 0
        assert s.scalar(select(func.count()).select_from(EventDelivery).where(
            EventDelivery.workspace == workspace)) == 0


def test_events_older_than_the_retention_are_pruned_with_their_deliveries(store, workspace):
    deploy(store, workspace, subscriber("b", "shipment.departed"))
    for run_id in (11, 12):
        step = StepContext(workspace=workspace, flow_id="a", flow_version=1, run_id=run_id, params={},
                           ledger=DatabaseLedger(store.sessions, workspace), business_key=None, root_run_id=run_id,
                           on_respond=lambda *args: None,
                           business_events=lambda ctx, r=run_id: business_events.StepEvents(store, ctx, r)).at("e", 1)
        step.business_events.emit("shipment.departed", None, {"run": run_id})
    old, new = events_of(store, workspace)
    with store.sessions.begin() as s:
        s.get(BusinessEvent, old.id).created_at = utcnow() - dt.timedelta(days=store.settings.retention_days + 1)
    assert business_events.prune(store) >= 1
    assert [e.id for e in events_of(store, workspace)] == [new.id]
    with store.sessions() as s:
        assert s.scalars(select(EventDelivery.event_id).where(EventDelivery.workspace == workspace)).all() == [new.id]


def test_delivery_runs_are_stored_before_they_are_enqueued_and_a_lost_enqueue_is_made_good(lone_settings, workspace,
                                                                                             partner):
    """The queue refuses the delivery runs' jobs (Redis away): the event and its runs are stored all the same, the runs
    wait `queued`, and the lost-job sweep gives them their jobs once the queue answers."""
    from dataclasses import replace

    from runtime import jobs
    from runtime.wiring import Runtime
    from support import identity

    rt = Runtime(replace(lone_settings, lost_job_after_s=0.0, maintenance_s=3600.0))  # the sweep: the test's call
    try:
        identity.make_partner(rt, partner)
        rt.ensure_workspace(workspace, partner_id=partner)
        if rt.settings.embedded_queue:
            rt.start_workers()
        else:
            jobs.bind(rt)
            rt.queue.start_threads(2)
        deploy(rt, workspace, emitter())
        deploy(rt, workspace, subscriber("b", "shipment.departed"))
        refused: list[list[int]] = []
        enqueue_runs = rt.queue.enqueue_runs

        def away(run_ids):
            refused.append(list(run_ids))
            raise ConnectionError("the queue is away")
        rt.queue.enqueue_runs = away
        a = ended(rt, intake.start_manual(rt, workspace, "a", {"n": 1}).id)
        rt.queue.enqueue_runs = enqueue_runs
        assert a.status == "succeeded"
        [b] = runs_of(rt, workspace, "b")
        assert refused == [[b.id]] and b.status == "queued" and b.attempt == 0
        assert [e.subscribers for e in events_of(rt, workspace)] == [1]
        assert jobs.requeue_lost(rt) == 1
        assert ended(rt, b.id).status == "succeeded"
    finally:
        rt.close()


def test_a_run_taken_over_after_it_emitted_delivers_nothing_twice(store, workspace):
    """A worker executes the emitting run and dies before it stores the run's end; the run is taken back and executed
    again from its start: the emit step finds its event, and the subscriber still has one run."""
    from runtime import jobs
    from runtime.store import claims

    deploy(store, workspace, emitter())
    deploy(store, workspace, subscriber("b", "shipment.departed"))
    a_id = intake.start_manual(store, workspace, "a", {"n": 1}).id
    first = jobs._execute(store, claims.claim(store, a_id), [])  # executed; its end never written
    assert first.status == "succeeded" and first.steps[-1]["output"]["emitted"]["duplicate"] is False
    [b] = runs_of(store, workspace, "b")
    assert claims.take_back(store, Run.id == a_id)[0] == [a_id]
    assert jobs.run_claimed(store, a_id) == "succeeded"
    with store.sessions() as s:
        a = s.get(Run, a_id)
    assert (a.takeovers, a.output["emitted"]["duplicate"], a.output["emitted"]["runs"]) == (1, True, [b.id])
    assert [r.id for r in runs_of(store, workspace, "b")] == [b.id] and len(events_of(store, workspace)) == 1
