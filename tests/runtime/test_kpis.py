"""Business KPIs (issue 14): the run's end write records each canonical order, shipment and return a conform step let
out, enriched by what later steps of the run carry (the ERP's order number and backorders, the WMS's warehouse);
a record counts once however often runs move it; figures group per day and per warehouse; a workspace sees only
its own facts."""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select

from runtime import intake, kpis, replay
from runtime.kpi_models import KpiFact
from runtime.models import Run
from support import wait_for
from support.deploys import deploy
from support.flowdocs import done, edge

DAY = dt.date(2026, 11, 26)


def conform_flow(flow_id: str, record: str, enrich: str = "$") -> dict:
    """manual -> conform(record) -> map (the systems' answers added, or the message as it is) -> end."""
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
            "nodes": [{"id": "start", "type": "event.manual", "config": {}},
                      {"id": "conform", "type": "transform.conform", "config": {"record": record}},
                      {"id": "enrich", "type": "transform.map", "config": {"expression": enrich}},
                      {"id": "rejected", "type": "control.discard", "config": {"reason": "not canonical"}}, done()],
            "edges": [edge(1, "start", "conform"), edge(2, "conform", "enrich"), edge(3, "enrich", "done"),
                      edge(4, "conform", "rejected", "rejected")]}


# the order-release template's shape: the ERP's answer under `erp`, the WMS's under `wms`
RELEASE = conform_flow("release", "order", "$merge([$, {'erp': {'no': 'SO-' & number, 'lines': lines.{"
                                           "'quantityBackordered': $exists(short) ? short : 0}},"
                                           "'wms': {'warehouseId': warehouse}}])")
SHIP = conform_flow("ship", "shipment")
RETURN = conform_flow("rma", "return")


def order(number: str, placed: str, *qty: int, short: int = 0, warehouse: str = "DC1",
          requested: str | None = None) -> dict:
    lines = [{"line_no": i + 1, "sku": f"SKU-{i}", "quantity": q} for i, q in enumerate(qty)]
    if short:
        lines[0]["short"] = short
    body = {"schema_version": 1, "number": number, "customer_no": "C-1", "ordered_at": placed, "lines": lines,
            "warehouse": warehouse,
            "ship_to": {"name": "A", "address1": "1 Main", "city": "X", "postal_code": "1", "country": "US"}}
    if requested:
        body["requested_date"] = requested
    return body


def shipment(shipment_id: str, order_no: str, shipped: str, *qty: int) -> dict:
    lines = [{"line_no": i + 1, "sku": f"SKU-{i}", "quantity": q} for i, q in enumerate(qty)]
    return {"schema_version": 1, "shipment_id": shipment_id, "order_number": order_no, "shipped_at": shipped,
            "parcels": [{"tracking_number": f"1Z{shipment_id}", "lines": lines}], "lines": lines}


def rma(name: str, order_no: str, qty: int) -> dict:
    return {"schema_version": 1, "rma": name, "order_number": order_no, "customer_no": "C-1",
            "lines": [{"sku": "SKU-0", "quantity": qty}]}


def run_to_end(rt, workspace: str, flow_id: str, message) -> Run:
    run_id = intake.start_manual(rt, workspace, flow_id, message).id

    def ended():
        with rt.sessions() as s:
            run = s.get(Run, run_id)
            return run if run.status in ("succeeded", "failed") else None
    return wait_for(ended)


def facts(rt, workspace: str) -> list[tuple]:
    with rt.sessions() as s:
        return [tuple(r) for r in s.execute(
            select(KpiFact.kind, KpiFact.document, KpiFact.alias, KpiFact.warehouse, KpiFact.day, KpiFact.quantity,
                   KpiFact.backordered).where(KpiFact.workspace == workspace).order_by(KpiFact.id))]


def story(rt, workspace: str) -> None:
    """Four orders over two days in two warehouses: one short (backorder, partial shipment), one shipped late,
    one not shipped yet; a return of part of one."""
    for flow in (RELEASE, SHIP, RETURN):
        deploy(rt, workspace, flow)
    for message in (order("1001", "2026-11-26T08:00:00Z", 10, 5, requested="2026-11-27"),
                    order("1002", "2026-11-26T09:00:00Z", 20, short=5, requested="2026-11-28"),
                    order("1003", "2026-11-27T10:00:00Z", 4, warehouse="DC2", requested="2026-11-27"),
                    order("1004", "2026-11-27T11:00:00Z", 7, warehouse="DC2")):
        assert run_to_end(rt, workspace, "release", message).status == "succeeded"
    for message in (shipment("SH1", "SO-1001", "2026-11-26T20:00:00Z", 10, 5),
                    shipment("SH2", "SO-1002", "2026-11-27T09:00:00Z", 15),
                    shipment("SH3", "SO-1003", "2026-11-28T10:00:00Z", 4)):  # a day after its requested date
        assert run_to_end(rt, workspace, "ship", message).status == "succeeded"
    assert run_to_end(rt, workspace, "rma", rma("RMA-1", "1001", 3)).status == "succeeded"


def test_an_end_write_records_the_canonical_records_with_what_the_systems_answered(rt, workspace):
    story(rt, workspace)
    assert facts(rt, workspace) == [
        ("order", "1001", "SO-1001", "DC1", "2026-11-26", 15.0, 0.0),
        ("order", "1002", "SO-1002", "DC1", "2026-11-26", 20.0, 5.0),
        ("order", "1003", "SO-1003", "DC2", "2026-11-27", 4.0, 0.0),
        ("order", "1004", "SO-1004", "DC2", "2026-11-27", 7.0, 0.0),
        ("shipment", "SH1", None, None, "2026-11-26", 15.0, None),
        ("shipment", "SH2", None, None, "2026-11-27", 15.0, None),
        ("shipment", "SH3", None, None, "2026-11-28", 4.0, None),
        ("return", "RMA-1", None, None, dt.datetime.utcnow().date().isoformat(), 3.0, None)]


def test_the_figures_per_workspace_per_day_and_per_warehouse(rt, workspace):
    story(rt, workspace)
    report = kpis.report(rt, workspace, DAY, DAY + dt.timedelta(days=1))

    assert report["summary"] == {
        "orders": 4, "shipments": 3,
        "order_cycle_time_h": round((12 + 24 + 24) / 3, 4),  # 1001: 12 h, 1002: 24 h, 1003: 24 h; 1004 unshipped
        "fulfillment_accuracy": round((15 + 15 + 4) / (15 + 20 + 4), 4),
        "backorder_rate": 0.25,
        "on_time_shipment_rate": round(2 / 3, 4),  # 1003 shipped the day after its requested date
        "return_rate": round(3 / 34, 4)}
    assert report["summary"] == kpis.summary(rt, workspace, DAY, DAY + dt.timedelta(days=1))
    assert [(d["day"], d["orders"], d["backorder_rate"], d["on_time_shipment_rate"]) for d in report["by_day"]] == [
        ("2026-11-26", 2, 0.5, 1.0), ("2026-11-27", 2, 0.0, 0.0)]
    assert [(w["warehouse"], w["orders"], w["shipments"], w["fulfillment_accuracy"])
            for w in report["by_warehouse"]] == [("DC1", 2, 2, round(30 / 35, 4)), ("DC2", 2, 1, 1.0)]
    # one day alone: its own orders, with their shipments whenever they shipped
    first = kpis.summary(rt, workspace, DAY, DAY)
    assert (first["orders"], first["shipments"], first["order_cycle_time_h"]) == (2, 2, 18.0)
    empty = kpis.summary(rt, workspace, DAY - dt.timedelta(days=9), DAY - dt.timedelta(days=1))
    assert empty == {"orders": 0, "shipments": 0, "order_cycle_time_h": None, "fulfillment_accuracy": None,
                     "backorder_rate": None, "on_time_shipment_rate": None, "return_rate": None}


def test_a_record_moved_again_counts_once_and_a_rejected_one_not_at_all(rt, workspace):
    story(rt, workspace)
    before = facts(rt, workspace)
    run_to_end(rt, workspace, "release", order("1002", "2026-11-29T09:00:00Z", 99))  # the same order again
    run_to_end(rt, workspace, "ship", shipment("SH2", "SO-1002", "2026-11-29T09:00:00Z", 99))  # redelivered
    with rt.sessions() as s:
        shipped = s.scalars(select(Run.id).where(Run.workspace == workspace, Run.flow_id == "ship")).first()
    replayed = replay.start(rt, workspace, shipped).id
    wait_for(lambda: _ended(rt, replayed))
    rejected = order("1099", "2026-11-26T09:00:00Z", 1)
    del rejected["ship_to"]  # not a canonical order: conform rejects it
    run_to_end(rt, workspace, "release", rejected)

    assert facts(rt, workspace) == before
    assert kpis.summary(rt, workspace, DAY, DAY + dt.timedelta(days=1))["orders"] == 4


def _ended(rt, run_id: int) -> bool:
    with rt.sessions() as s:
        return s.get(Run, run_id).status in ("succeeded", "failed")


def test_a_workspace_sees_only_its_own_figures(rt, workspace, partner):
    other = f"ws{uuid.uuid4().hex[:10]}"
    rt.ensure_workspace(other, partner_id=partner)
    story(rt, workspace)
    assert kpis.summary(rt, other, DAY, DAY + dt.timedelta(days=1))["orders"] == 0
    deploy(rt, other, RELEASE)
    run_to_end(rt, other, "release", order("1001", "2026-11-26T08:00:00Z", 1))  # the same number, its own order
    assert kpis.summary(rt, other, DAY, DAY)["orders"] == 1
    assert kpis.summary(rt, workspace, DAY, DAY)["orders"] == 2
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(KpiFact).where(KpiFact.workspace == other)) == 1


def test_facts_of_odd_messages_are_bounded_and_never_raise():
    from types import SimpleNamespace

    row = SimpleNamespace(workspace="w", id=1, dry_run=False, checkpoint=None)
    now = dt.datetime(2026, 11, 26, 12, 0)

    def steps(*outputs, node_type="transform.conform"):
        return SimpleNamespace(steps=[{"status": "succeeded", "node_type": node_type, "port": "out", "output": o}
                                      for o in outputs])

    odd = [None, 7, "x", [], {"schema_version": 1}, {"schema_version": 1, "number": "1", "customer_no": "c",
                                                     "lines": "many"},
           {"schema_version": 2, "number": "1", "customer_no": "c", "lines": [{"quantity": 1}]},
           {"schema_version": 1, "number": "1", "customer_no": "c", "lines": [{"quantity": 1}], "rejection": {}}]
    assert kpis.facts_of(row, steps(*odd), now) == []
    hostile = {"schema_version": 1, "number": 42.0, "customer_no": "c", "ordered_at": "9999-12-31T23:59:59-14:00",
               "requested_date": "2026-02-30", "lines": [{"quantity": float("nan")}, {"quantity": True}, 3, {}],
               "erp": {"no": {"nested": 1}, "lines": {"quantityBackordered": float("inf")}}, "wms": "DC1"}
    [fact] = kpis.facts_of(row, steps(hostile), now)
    assert (fact["document"], fact["at"], fact["requested_date"], fact["quantity"], fact["backordered"], fact["alias"],
            fact["new"]) == ("42", now, None, 0.0, 0.0, None, True)
    many = [order(str(n), "2026-11-26T08:00:00Z", 1) for n in range(kpis.MAX_FACTS + 10)]
    assert len(kpis.facts_of(row, steps(*many), now)) == kpis.MAX_FACTS
    # a later step carrying the record only enriches; a dry run records nothing
    assert [f["new"] for f in kpis.facts_of(row, steps(many[0], node_type="transform.map"), now)] == [False]
    assert kpis.facts_of(SimpleNamespace(workspace="w", id=1, dry_run=True), steps(many[0]), now) == []
