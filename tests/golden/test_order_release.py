"""Golden: the order-release template against the sandbox OMS, ERP and WMS, once per ERP product (the `erp_api`
fixture: Business Central-like and NetSuite-like, chosen by the flow's erp_product param)."""
from __future__ import annotations

import uuid

from runtime import egress, lookups

ACME, CORNER = 7001, 7005  # CORNER is C-10977: credit limit 1,000 with 650 open


def test_an_order_with_one_sku_short_ships_what_is_available_and_backorders_the_rest(crossdock, systems, erp_api):
    order = systems.oms_order(ACME, ("hw-20620-c", 100), ("hw-61610-c", 60))  # only 48 of HW-61610-C in stock
    run = crossdock.run("oms/orders", order)
    assert run.status == "succeeded", run.error

    [erp] = erp_api.orders(str(order["id"]))
    assert erp["status"] == "Released" and erp["customerNo"] == "C-10442"
    assert [(l["itemNo"], l["quantity"], l["quantityReserved"], l["quantityBackordered"]) for l in erp["lines"]] == [
        ("HW-20620-C", 100, 100, 0), ("HW-61610-C", 60, 48, 12)]
    [wms] = systems.wms_orders(erp["no"])
    assert [(l["itemId"], l["orderedQty"]) for l in wms["lines"]] == [("HW-20620-C", 100), ("HW-61610-C", 48)]
    assert wms["waveId"] == "WV-DC1-20261126" and wms["carrierCode"] == "UPSN"
    assert erp_api.backorders("HW-61610-C") == [(erp["no"], 12)]
    oms = systems.get(f"/oms/api/orders/{order['id']}")["order"]
    assert oms["status"] == "released" and "backordered: HW-61610-C x 12" in oms["note"]


def test_an_order_over_the_credit_limit_is_on_hold_in_the_oms_with_an_exception_and_nothing_in_the_wms(
        crossdock, systems, erp_api):
    order = systems.oms_order(CORNER, ("hw-20620-c", 200))  # 520.00 on top of 650 open, limit 1,000
    run = crossdock.run("oms/orders", order)

    [erp] = erp_api.orders(str(order["id"]))
    assert (erp["status"], erp["holdReason"]) == ("Hold", "CREDIT")
    assert systems.wms_orders(erp["no"]) == []
    oms = systems.get(f"/oms/api/orders/{order['id']}")["order"]
    assert oms["status"] == "on_hold" and oms["tags"] == "crossdock:credit_hold"
    [exception] = crossdock.dead_letters(run.id)
    assert (exception.code, exception.error_class, exception.node_id) == ("credit_hold", "business", "credit_exception")
    assert erp["no"] in exception.message
    assert run.status == "failed" and run.error["code"] == "credit_hold"


def test_the_same_order_posted_twice_creates_one_erp_order(crossdock, systems, erp_api):
    order = systems.oms_order(ACME, ("hw-13687-b", 5))
    first = crossdock.run("oms/orders", order)
    second = crossdock.run("oms/orders", order)  # a webhook delivered again

    assert (first.status, second.status) == ("succeeded", "succeeded")
    assert len(erp_api.orders(str(order["id"]))) == 1
    assert len(erp_api.orders()) == 1
    [erp] = erp_api.orders(str(order["id"]))
    assert len(systems.wms_orders(erp["no"])) == 1
    dedupe = [s for s in crossdock.steps(second.id) if s.node_id == "dedupe"]
    assert [s.port for s in dedupe] == ["duplicate"] and dedupe[0].output["duplicate_of"] == str(first.id)
    assert "erp_order" not in {s.node_id for s in crossdock.steps(second.id)}


def test_an_order_after_the_warehouse_cutoff_lands_in_the_next_days_wave(crossdock, systems, erp_api):
    systems.clock("wms", "2026-11-26T14:05:00Z")  # DC1 cuts off at 14:00 UTC
    order = systems.oms_order(ACME, ("hw-87462-d", 12))
    assert crossdock.run("oms/orders", order).status == "succeeded"

    [erp] = erp_api.orders(str(order["id"]))
    [wms] = systems.wms_orders(erp["no"])
    assert wms["waveId"] == "WV-DC1-20261127"
    oms = systems.get(f"/oms/api/orders/{order['id']}")["order"]
    assert oms["status"] == "released" and "WV-DC1-20261127" in oms["note"]


def test_a_substitution_replaces_a_discontinued_item(crossdock, systems, erp_api):
    lookups.put(crossdock.rt, crossdock.workspace, "substitutions", "HW-61610-C", "HW-21404-B")
    order = systems.oms_order(ACME, ("hw-61610-c", 60))
    assert crossdock.run("oms/orders", order).status == "succeeded"

    [erp] = erp_api.orders(str(order["id"]))
    assert [(l["itemNo"], l["quantityReserved"], l["quantityBackordered"]) for l in erp["lines"]] == [
        ("HW-21404-B", 60, 0)]


def test_ship_complete_holds_an_order_with_a_backorder_until_stock_arrives(crossdock, systems, erp_api):
    order = systems.oms_order(ACME, ("hw-61610-c", 60))
    doc = crossdock.client.get("/api/v1/flows/order-release").json["flow"]
    doc["params"]["partial_shipment"]["default"] = "ship_complete"
    assert crossdock.client.put("/api/v1/flows/order-release", json=doc).status_code == 200
    assert crossdock.client.post("/api/v1/flows/order-release/deploy").status_code == 201
    assert crossdock.run("oms/orders", order).status == "succeeded"

    [erp] = erp_api.orders(str(order["id"]))
    assert systems.wms_orders(erp["no"]) == []
    assert systems.get(f"/oms/api/orders/{order['id']}")["order"]["status"] == "on_hold"


def test_a_customer_on_netsuite_installs_the_template_with_one_import_naming_the_product_and_the_connection(
        rt, client, partner, systems, crossdock_in, netsuite):
    workspace = f"ws{uuid.uuid4().hex[:10]}"
    rt.ensure_workspace(workspace, partner_id=partner)
    egress.allow_origin(rt, workspace, systems.url)
    conns = {"erp": {"system": "erp", "base_url": f"{systems.url}/netsuite/api"},  # an ERP connection, to NetSuite
             **{name: {"system": name, "base_url": f"{systems.url}/{name}/api"} for name in ("oms", "wms")}}
    r = client.post("/api/v1/templates/import", headers={"X-Crossdock-Workspace": workspace}, json={
        "template": "order-release", "params": {"erp_product": "erp.netsuite"}, "connections": conns})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.json["deployed_version"] == 1 and r.json["params"]["erp_product"] == "erp.netsuite"

    order = systems.oms_order(ACME, ("hw-20620-c", 10))
    assert crossdock_in(workspace).run("oms/orders", order).status == "succeeded"
    [erp] = netsuite.orders(str(order["id"]))
    assert erp["status"] == "Released" and [l["quantityReserved"] for l in erp["lines"]] == [10]
    assert systems.erp_orders(str(order["id"])) == []  # nothing went to the other ERP
    assert [w["reference"] for w in systems.wms_orders(erp["no"])] == [str(order["id"])]
