"""Golden (issue 14, acceptance 2): after the order-release, shipment-confirmation and returns templates ran against
the sandbox systems (a full shipment, a backorder shipped short, a partial shipment a day later, an order not
shipped yet, an order on credit hold, a webhook delivered twice and a return), the dashboard and GET /api/v1/kpis
show cycle time, fulfillment accuracy, backorder rate, return rate and on-time shipment; the test recomputes each
from the systems' own records (OMS orders and returns, ERP sales orders, WMS shipments) and they agree within
rounding. Requested delivery dates come as the OMS's note attribute `requested_delivery_date` (as a Shopify
checkout's delivery date picker adds it): one order ships on time, one late, one has none."""
from __future__ import annotations

import datetime as dt
import json
import pathlib

import pytest

from nodes import mapping_reader
from tests.designer.test_trading_partners_api import documented

TEMPLATE = pathlib.Path(__file__).resolve().parents[2] / "flows" / "templates" / "order-release.json"

ACME, CORNER = 7001, 7005  # CORNER is over its credit limit with an order of 200 x HW-20620-C


def stamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def ship(crossdock, systems, erp_no: str, at: dt.datetime, *lines: tuple[int, int]) -> dict:
    """The WMS ships (line number, quantity) of its order for ERP order `erp_no` at `at`; the confirmation runs."""
    systems.clock("wms", stamp(at))
    [wms] = systems.wms_orders(erp_no)
    shipment = systems.post(f"/wms/api/shipping-orders/{wms['id']}/ship-confirm", {"parcels": [
        {"trackingNumber": f"1Z{wms['id']}{at:%H%M}", "lines": [{"lineNumber": n, "qty": q} for n, q in lines]}]})
    run = crossdock.run("wms/shipments", shipment["data"])
    assert run.status == "succeeded", run.error
    return shipment["data"]


def place(crossdock, systems, at: dt.datetime, customer: int, *lines: tuple[str, int],
          requested: dt.date | None = None) -> dict:
    systems.clock("oms", stamp(at))
    attributes = [{"name": "gift_note", "value": "-"}, {"name": "requested_delivery_date", "value": str(requested)}]
    extra = {"note_attributes": attributes} if requested else {}
    order = systems.oms_order(customer, *lines, **extra)
    crossdock.run("oms/orders", order)
    return order


def recomputed(systems, orders: list[dict]) -> dict:
    """The KPIs from the systems' own records: the OMS's orders (placed time, ordered units, returns), the ERP's
    sales orders (backordered units, the requested delivery date they were sent) and the WMS's shipment
    confirmations (when, how many units)."""
    cycle, accurate, ordered_shipped, shipped_units, returned, backordered = [], 0, 0, 0, 0, 0
    on_time, with_date = 0, 0
    for placed in orders:
        oms = systems.get(f"/oms/api/orders/{placed['id']}")["order"]
        [erp] = systems.erp_orders(str(placed["id"]))
        backordered += sum(l["quantityBackordered"] for l in erp["lines"]) > 0
        asked = [a["value"] for a in oms["note_attributes"] if a["name"] == "requested_delivery_date"]
        assert erp.get("requestedDeliveryDate") == (asked[0] if asked else None)  # released with the OMS's date
        returned += sum(l["quantity"] for r in oms["returns"] for l in r["line_items"])
        shipments = systems.get("/wms/api/shipments", orderNumber=erp["no"])["data"]
        if not shipments:
            continue
        ordered = sum(l["quantity"] for l in oms["line_items"])
        units = sum(l["shippedQty"] for s in shipments for l in s["lines"])
        first = min(when(s["shippedAt"]) for s in shipments)
        cycle.append((first - when(oms["created_at"])).total_seconds() / 3600)
        if erp.get("requestedDeliveryDate"):
            with_date += 1
            on_time += first.date() <= dt.date.fromisoformat(erp["requestedDeliveryDate"])
        accurate += min(units, ordered)
        ordered_shipped += ordered
        shipped_units += units
    return {"orders": len(orders), "order_cycle_time_h": sum(cycle) / len(cycle),
            "fulfillment_accuracy": accurate / ordered_shipped, "backorder_rate": backordered / len(orders),
            "return_rate": returned / shipped_units, "on_time_shipment_rate": on_time / with_date}


def test_the_dashboard_kpis_agree_with_the_systems_own_records(crossdock, systems, client):
    t0 = dt.datetime.utcnow().replace(microsecond=0) - dt.timedelta(hours=2)
    # full ships 3 hours after it was placed, by the next day it asked for; partial ships the day after it asked
    full = place(crossdock, systems, t0, ACME, ("hw-20620-c", 10), ("hw-13687-b", 5),
                 requested=t0.date() + dt.timedelta(days=1))
    short = place(crossdock, systems, t0 + dt.timedelta(minutes=10), ACME, ("hw-61610-c", 60))  # 48 in stock
    partial = place(crossdock, systems, t0 + dt.timedelta(minutes=20), ACME, ("hw-20620-c", 20),
                    requested=t0.date())
    waiting = place(crossdock, systems, t0 + dt.timedelta(minutes=30), ACME, ("hw-87462-d", 12),
                    requested=t0.date())  # not shipped yet: neither on time nor late
    held = place(crossdock, systems, t0 + dt.timedelta(minutes=40), CORNER, ("hw-20620-c", 200))
    orders = [full, short, partial, waiting, held]
    assert crossdock.run("oms/orders", full).status == "succeeded"  # the webhook delivered again: counted once
    erp = {o["id"]: systems.erp_orders(str(o["id"]))[0]["no"] for o in orders}

    ship(crossdock, systems, erp[full["id"]], t0 + dt.timedelta(hours=3), (10000, 10), (20000, 5))
    ship(crossdock, systems, erp[short["id"]], t0 + dt.timedelta(hours=5), (10000, 48))
    late = ship(crossdock, systems, erp[partial["id"]], t0 + dt.timedelta(hours=28), (10000, 15))  # the next day
    assert late["orderComplete"] is False
    systems.clock("oms", None)
    returned = systems.post(f"/oms/api/orders/{full['id']}/returns", {"return": {
        "line_items": [{"sku": "hw-20620-c", "quantity": 3, "return_reason": "damaged"}]}})["order"]
    assert crossdock.run("oms/returns", {**returned["returns"][-1], "order": returned}).status == "succeeded"

    expected = recomputed(systems, orders)
    # not trivial: a backorder, short and partial shipments, cycle times from 3 to 27 hours
    assert 0 < expected["backorder_rate"] < 1 and 0 < expected["fulfillment_accuracy"] < 1
    assert expected["order_cycle_time_h"] > 3 and expected["return_rate"] > 0
    assert expected["on_time_shipment_rate"] == 0.5  # one of the two shipped orders with a date was late

    r = client.get("/api/v1/kpis")
    assert r.status_code == 200, r.json
    documented(client, r, "/api/v1/kpis")
    dashboard = client.get("/api/v1/dashboard?window_s=86400")
    assert dashboard.status_code == 200, dashboard.json
    for figures in (r.json["summary"], dashboard.json["kpis"]):
        assert figures["orders"] == expected["orders"]
        assert figures["shipments"] == 3
        for name in ("order_cycle_time_h", "fulfillment_accuracy", "backorder_rate", "return_rate",
                     "on_time_shipment_rate"):
            assert figures[name] is not None and figures[name] == pytest.approx(expected[name], abs=1e-3), name
    # the held order never reached the WMS: no warehouse known
    assert {w["warehouse"]: w["orders"] for w in r.json["by_warehouse"]} == {"DC1": 4, None: 1}
    assert sum(d["orders"] for d in r.json["by_day"]) == 5


def test_the_erp_body_maps_the_requested_date_in_the_mappers_form():
    """The order release's ERP body still opens editable in the mapper, requestedDeliveryDate a field rule."""
    flow = json.loads(TEMPLATE.read_text())["flow"]
    body = next(n for n in flow["nodes"] if n["id"] == "erp_order")["config"]["body"]
    read = mapping_reader.read(body)
    assert read["editable"] is True
    assert {"target": "requestedDeliveryDate", "rule": {"kind": "field", "path": "requested_date"}} \
        in read["mapping"]["fields"]
