"""control.wait in the runtime: a run parks at the wait until a later document with its key arrives on another trigger
of the flow (then out), or its timeout passes (then timeout); early arrivals are held, orphans become dead letters.
Asserted on the run, step, wait and dead-letter rows, on the embedded backend and on PostgreSQL + Redis."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from nodes import control_wait
from nodes.base import NodeError
from runtime import intake, replay
from runtime.models import DeadLetter, Run, Step
from support import wait_for
from support.flowdocs import edge
from support.deploys import deploy

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
    assert replay.start(rt, workspace, arrival).sequence_key is None  # nor does its replay


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


# --- acceptance 7, end to end against the sandbox WMS: the release creates a shipping order in the WMS and waits
# for its shipment confirmation, which an event.poll of the WMS's shipments feed brings to the wait's arrival port.
SHIPPED_AT = "2026-11-26T13:30:00Z"  # the WMS's frozen clock when it ships
CONFIRMED_AT = "2026-11-26T14:10:00Z"  # and when the withheld confirmation goes out


@pytest.fixture(scope="module")
def wms(tmp_path_factory):
    import requests

    from sandbox.serve import start_in_thread

    server = start_in_thread("127.0.0.1", 0, f"sqlite:///{tmp_path_factory.mktemp('wms')}/sandbox.sqlite")
    http = requests.Session()
    http.trust_env = False
    http.base = f"http://127.0.0.1:{server.server_port}"
    yield http
    server.shutdown()


def wms_flow(timeout_s: float) -> dict:
    body = "{'orderNumber': order.number, 'shipTo': {'name': 'Acme'}, 'carrierCode': 'UPSN', " \
           "'lines': [order.lines.{'itemId': sku, 'orderedQty': qty}]}"
    return {"schema": "crossdock.flow/1", "id": "release", "name": "Release and await the 945",
            "settings": {"sequence_key": "order.number"},
            "nodes": [{"id": "release", "type": "event.webhook", "config": {"path": "release"}},
                      {"id": "to_wms", "type": "connector.wms",
                       "config": {"connection": "wms", "operation": "create_shipping_order", "body": body,
                                  "into": "wms"}},
                      {"id": "shipments", "type": "event.poll",
                       "config": {"source": "http", "connection": "wms_feed", "path": "/shipments", "records": "data",
                                  "timestamp_field": "confirmedAt", "id_field": "shipmentId",
                                  "limit_param": "pageSize", "interval_s": 1}},
                      {"id": "wait", "type": "control.wait",
                       "config": {"key": "order.number", "arrival_key": "orderNumber", "timeout_s": timeout_s}},
                      {"id": "done", "type": "control.discard", "config": {"reason": "shipment confirmed"}},
                      {"id": "late", "type": "control.discard", "config": {"reason": "the test reads the timeout"}}],
            "edges": [edge(1, "release", "to_wms"), edge(2, "to_wms", "wait"),
                      {**edge(3, "shipments", "wait"), "target_port": "arrival"},
                      edge(4, "wait", "done"), edge(5, "wait", "late", "timeout")]}


def connect_wms(rt, workspace: str, wms) -> None:
    from runtime import connections, egress

    egress.allow_origin(rt, workspace, wms.base)
    connections.save(rt, workspace, "wms", {"system": "wms", "base_url": wms.base + "/wms/api"})
    connections.save(rt, workspace, "wms_feed", {"system": "http", "base_url": wms.base + "/wms/api"})
    assert wms.post(wms.base + "/_reset").ok
    assert wms.post(wms.base + "/wms/api/_clock", json={"now": SHIPPED_AT}).ok


def released(rt, workspace: str, wms, number: str, timeout_s: float) -> tuple[int, dict]:
    """Deploy, release order `number` and wait until its run is parked at the wait; the run and the WMS's order."""
    version = deploy(rt, workspace, wms_flow(timeout_s))
    run_id = start(rt, workspace, version, "release", {"order": {"number": number, "lines": [
        {"sku": "HW-20620-C", "qty": 3}]}})
    parked(rt, run_id)
    [order] = wms.get(wms.base + "/wms/api/shipping-orders", params={"orderNumber": number}).json()["data"]
    return run_id, order


def poll(rt, workspace: str) -> list[int]:
    """A maintenance pass's polls (every due poll node of the database); the runs it started in this workspace."""
    from runtime import polls

    started = polls.poll_due(rt)
    with rt.sessions() as s:
        return s.scalars(select(Run.id).where(Run.id.in_(started), Run.workspace == workspace)).all() if started else []


def arrivals(rt, workspace: str) -> list[int]:
    """The runs the shipments feed started (by the test's poll or by a maintenance pass)."""
    with rt.sessions() as s:
        return s.scalars(select(Run.id).where(Run.workspace == workspace, Run.trigger_node == "shipments")).all()


def ship(wms, order: dict) -> dict:
    """The warehouse ships the order (stock and status move in the WMS); its confirmation goes out unless withheld."""
    shipped = wms.post(f"{wms.base}/wms/api/shipping-orders/{order['id']}/ship-confirm", json={"parcels": [
        {"trackingNumber": "1Z0000000001", "weightKg": 4.2, "lines": [{"lineNumber": 1, "qty": 3}]}]})
    assert shipped.status_code == 201, shipped.text
    return shipped.json()["data"]


def hold_confirmations(wms, hold: bool) -> dict:
    answer = wms.post(wms.base + "/wms/api/_hold_confirmations", json={"hold": hold})
    assert answer.ok, answer.text
    return answer.json()["data"]


def test_the_wms_withholding_the_945_sends_the_release_out_timeout(rt, workspace, wms):
    connect_wms(rt, workspace, wms)
    hold_confirmations(wms, True)
    run_id, order = released(rt, workspace, wms, "SO-945-A", timeout_s=2)
    ship(wms, order)  # shipped in the warehouse, and the confirmation withheld
    assert wms.get(f"{wms.base}/wms/api/shipping-orders/{order['id']}").json()["data"]["statusCode"] == 40
    assert hold_confirmations(wms, True) == {"hold": True, "withheld": 1}
    assert poll(rt, workspace) == []  # the feed has nothing for it
    done = finished(rt, run_id)
    assert done.status == "succeeded", done.error
    assert arrivals(rt, workspace) == []
    last = steps(rt, run_id)[-1]
    assert (last.port, last.output["key"]) == ("timeout", "SO-945-A") and last.output["waited_s"] >= 2
    assert [s.node_id for s in steps(rt, run_id, "late")] == ["late"] and not steps(rt, run_id, "done")


def test_the_945_the_wms_sends_late_completes_the_release(rt, workspace, wms):
    connect_wms(rt, workspace, wms)
    hold_confirmations(wms, True)
    run_id, order = released(rt, workspace, wms, "SO-945-B", timeout_s=120)
    ship(wms, order)
    assert poll(rt, workspace) == [] and run_row(rt, run_id).status == "queued"  # withheld: still waiting

    assert wms.post(wms.base + "/wms/api/_clock", json={"now": CONFIRMED_AT}).ok
    assert hold_confirmations(wms, False) == {"hold": False, "withheld": 0}  # the 945 goes out now
    # the WMS's shipment confirmation, taken from its feed (by this poll, or by a maintenance pass's)
    [arrival] = wait_for(lambda: poll(rt, workspace) or arrivals(rt, workspace))
    assert run_row(rt, arrival).sequence_key is None

    done = finished(rt, run_id)
    assert done.status == "succeeded", done.error
    last = steps(rt, run_id)[-1]
    assert last.port == "out"
    confirmation = last.output["arrival"]
    assert (confirmation["orderNumber"], confirmation["shippedAt"], confirmation["confirmedAt"]) == (
        "SO-945-B", SHIPPED_AT, CONFIRMED_AT)
    assert confirmation["parcels"][0]["trackingNumber"] == "1Z0000000001"
    assert last.output["waited"]["wms"]["id"] == order["id"]
    assert steps(rt, arrival)[-1].output == {"key": "SO-945-B", "delivered_to": str(run_id)}
    assert [s.node_id for s in steps(rt, run_id, "done")] == ["done"]


def test_an_arrival_that_finds_its_run_still_running_parks_and_wakes_it_again(store, workspace):
    """The waiting run matched but not parked yet (a wake then is lost): the arrival's message parks a second and
    wakes it again, until the wake takes or a minute has passed (the run then finds its match at its deadline)."""
    from types import SimpleNamespace

    from nodes.base import Wait
    from runtime import waits

    prepared = control_wait.prepare(control_wait.Config().load(
        {"key": "order.number", "arrival_key": "order.number", "timeout_s": 60}), None)

    def ctx(run_id: str, port: str, woken: bool):
        c = SimpleNamespace(workspace=workspace, flow_id="release", flow_version=1, node_id="wait", run_id=run_id,
                            attempt=1, params={}, branch="", in_port=port, wake=lambda run: woken, log=lambda m: None)
        c.waits = waits.StepWaits(store, c)
        return c

    with pytest.raises(Wait):
        list(control_wait.run(prepared, ORDER, ctx("31", "in", False)))
    with pytest.raises(Wait) as parked_arrival:
        list(control_wait.run(prepared, SHIPPED, ctx("32", "arrival", False)))
    assert parked_arrival.value.after_s == control_wait.REWAKE_AFTER_S
    assert list(control_wait.run(prepared, SHIPPED, ctx("32", "arrival", True))) == [
        ("receipt", {"key": "4711", "delivered_to": "31"})]
    assert list(control_wait.run(prepared, ORDER, ctx("31", "in", False))) == [
        ("out", {"waited": ORDER, "arrival": SHIPPED})]
    # the waiting run went on: the same arrival again wakes nobody
    assert list(control_wait.run(prepared, SHIPPED, ctx("32", "arrival", False))) == [
        ("receipt", {"key": "4711", "delivered_to": "31"})]
