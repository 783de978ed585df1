"""control.wait in the runtime: a run parks at the wait until a later document with its key arrives on another trigger
of the flow (then out), or its timeout passes (then timeout); early arrivals are held, orphans become dead letters.
Asserted on the run, step, wait and dead-letter rows, on the embedded backend and on PostgreSQL + Redis."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from designer import drafts
from nodes import control_wait
from nodes.base import NodeError
from runtime import deployments, intake
from runtime.models import DeadLetter, Flow, Run, Step
from support import wait_for
from support.flowdocs import edge

ORDER = {"order": {"number": "4711", "lines": [{"sku": "HW-20620-C", "qty": 3}]}}
SHIPPED = {"order": {"number": "4711"}, "shipmentId": "SHP0000001", "parcels": [{"trackingNumber": "1Z1"}]}


def flow(timeout_s: float = 60, hold_arrival_s: float = 600, **settings) -> dict:
    """release -> wait (in), shipped -> wait (arrival); out and timeout each end in a discard. Both documents carry
    order.number, the flow's sequence key: the arrival's run must still not wait behind the parked release."""
    return {"schema": "crossdock.flow/1", "id": "release", "name": "release", "settings": settings,
            "nodes": [{"id": "release", "type": "event.webhook", "config": {"path": "release"}},
                      {"id": "shipped", "type": "event.webhook", "config": {"path": "shipped"}},
                      {"id": "wait", "type": "control.wait",
                       "config": {"key": "order.number", "arrival_key": "order.number", "timeout_s": timeout_s,
                                  "hold_arrival_s": hold_arrival_s}},
                      {"id": "done", "type": "control.discard", "config": {"reason": "confirmed"}},
                      {"id": "late", "type": "control.discard", "config": {"reason": "the test reads the timeout"}}],
            "edges": [edge(1, "release", "wait"),
                      {**edge(2, "shipped", "wait"), "target_port": "arrival"},
                      edge(3, "wait", "done"), edge(4, "wait", "late", "timeout")]}


def deploy(rt, workspace: str, doc: dict) -> int:
    with rt.sessions() as s:
        exists = s.get(Flow, (workspace, doc["id"])) is not None
    if not exists:
        drafts.create(rt, workspace, doc)
    return deployments.deploy(rt, workspace, doc["id"], drafts.load_or_400(doc))


def start(rt, workspace: str, version: int, trigger: str, message: dict) -> int:
    return intake.start(rt, workspace, "release", version, message, trigger="webhook", trigger_node=trigger).id


def run_row(rt, run_id: int) -> Run:
    with rt.sessions() as s:
        return s.get(Run, run_id)


def steps(rt, run_id: int, node: str = "wait") -> list[Step]:
    with rt.sessions() as s:
        return s.scalars(select(Step).where(Step.run_id == run_id, Step.node_id == node).order_by(Step.seq)).all()


def finished(rt, run_id: int, timeout: float = 20) -> Run:
    return wait_for(lambda: (r := run_row(rt, run_id)).status in ("succeeded", "failed") and r, timeout)


def parked(rt, run_id: int) -> Run:
    """The run once it is parked at the wait: queued, its last wait step `waiting`."""
    def check():
        r, s = run_row(rt, run_id), steps(rt, run_id)
        return r.status == "queued" and s and s[-1].status == "waiting" and r
    return wait_for(check)


def test_a_run_parks_until_its_arrival_comes_then_goes_out_with_it(rt, workspace):
    version = deploy(rt, workspace, flow(sequence_key="order.number"))
    waiting = start(rt, workspace, version, "release", ORDER)
    row = parked(rt, waiting)
    assert row.sequence_key == "4711" and steps(rt, waiting)[-1].output["waiting"]["details"]["key"] == "4711"

    arrival = start(rt, workspace, version, "shipped", SHIPPED)
    assert run_row(rt, arrival).sequence_key is None  # an arrival: not ordered behind the run it completes

    done = finished(rt, waiting)
    assert done.status == "succeeded", done.error
    last = steps(rt, waiting)[-1]
    assert (last.status, last.port) == ("succeeded", "out")
    assert last.output == {"waited": ORDER, "arrival": SHIPPED}
    assert [s.node_id for s in steps(rt, waiting, "done")] == ["done"]

    came = finished(rt, arrival)
    assert came.status == "succeeded", came.error
    receipt = steps(rt, arrival)[-1]
    assert (receipt.port, receipt.output) == ("receipt", {"key": "4711", "delivered_to": str(waiting)})


def test_without_an_arrival_the_run_goes_out_timeout(rt, workspace):
    version = deploy(rt, workspace, flow(timeout_s=1))
    waiting = start(rt, workspace, version, "release", ORDER)
    done = finished(rt, waiting)
    assert done.status == "succeeded", done.error
    wait_steps = steps(rt, waiting)
    assert wait_steps[0].status == "waiting"
    assert (wait_steps[-1].status, wait_steps[-1].port) == ("succeeded", "timeout")
    out = wait_steps[-1].output
    assert out["waited"] == ORDER and out["key"] == "4711" and out["waited_s"] >= 1
    assert [s.node_id for s in steps(rt, waiting, "late")] == ["late"] and not steps(rt, waiting, "done")


def test_an_arrival_before_the_wait_is_held_and_taken_by_it(rt, workspace):
    version = deploy(rt, workspace, flow())
    arrival = start(rt, workspace, version, "shipped", SHIPPED)
    assert finished(rt, arrival).status == "succeeded"
    receipt = steps(rt, arrival)[-1]
    assert receipt.port == "receipt" and receipt.output["key"] == "4711" and "held_until" in receipt.output

    waiting = start(rt, workspace, version, "release", ORDER)
    assert finished(rt, waiting).status == "succeeded"
    wait_steps = steps(rt, waiting)
    assert [(s.status, s.port) for s in wait_steps] == [("succeeded", "out")]  # never parked
    assert wait_steps[0].output["arrival"] == SHIPPED


def test_one_arrival_completes_one_wait_the_oldest(rt, workspace):
    version = deploy(rt, workspace, flow(timeout_s=60))
    first = start(rt, workspace, version, "release", ORDER)
    parked(rt, first)
    second = start(rt, workspace, version, "release", ORDER)
    parked(rt, second)
    start(rt, workspace, version, "shipped", SHIPPED)
    assert finished(rt, first).status == "succeeded" and steps(rt, first)[-1].port == "out"
    assert run_row(rt, second).status == "queued"  # still parked: that shipment confirmed the first release
    other = {**SHIPPED, "shipmentId": "SHP0000002"}
    start(rt, workspace, version, "shipped", other)
    assert finished(rt, second).status == "succeeded"
    assert steps(rt, second)[-1].output["arrival"] == other


def test_an_arrival_nobody_waits_for_without_a_hold_is_a_dead_letter(rt, workspace):
    version = deploy(rt, workspace, flow(hold_arrival_s=0))
    arrival = start(rt, workspace, version, "shipped", SHIPPED)
    assert finished(rt, arrival).status == "failed"
    with rt.sessions() as s:
        letters = s.scalars(select(DeadLetter).where(DeadLetter.run_id == arrival)).all()
    assert [(d.code, d.node_id, d.payload) for d in letters] == [("unmatched_arrival", "wait", SHIPPED)]


class _Ctx:
    run_id, node_id, attempt, flow_id, params, in_port = "1", "wait", 1, "f", {}, "in"


@pytest.mark.parametrize("message, code", [({}, "missing_key"), ({"order": {"number": ""}}, "missing_key"),
                                           ({"order": {"number": "x" * 201}}, "key_too_long")])
def test_a_message_without_a_usable_key_is_a_business_error(message, code):
    prepared = control_wait.prepare(control_wait.Config().load(
        {"key": "order.number", "arrival_key": "orderNumber", "timeout_s": 5}), None)
    with pytest.raises(NodeError) as err:
        list(control_wait.run(prepared, message, _Ctx()))
    assert (err.value.code, err.value.field) == (code, "key")


@pytest.mark.parametrize("config, field", [({"timeout_s": 0.5}, "timeout_s"), ({"timeout_s": 31 * 86_400}, "timeout_s"),
                                           ({"timeout_s": 5, "hold_arrival_s": -1}, "hold_arrival_s"),
                                           ({"timeout_s": 5, "hold_arrival_s": 8 * 86_400}, "hold_arrival_s")])
def test_times_are_bounded(config, field):
    errors = control_wait.Config().validate({"key": "a", "arrival_key": "b", **config})
    assert field in errors
