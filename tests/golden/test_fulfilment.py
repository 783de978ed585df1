"""Golden: inventory sync, shipment confirmation and returns against the sandbox OMS, ERP and WMS."""
from __future__ import annotations

ACME = 7001


def _released(crossdock, systems, *lines) -> tuple[dict, dict, dict]:
    """An OMS order taken through the order-release flow: (OMS order, ERP order, WMS shipping order)."""
    order = systems.oms_order(ACME, *lines)
    assert crossdock.run("oms/orders", order).status == "succeeded"
    [erp] = systems.erp_orders(str(order["id"]))
    [wms] = systems.wms_orders(erp["no"])
    return order, erp, wms


def test_inventory_events_of_one_sku_arriving_out_of_order_leave_the_oms_with_the_latest_quantity(crossdock, systems):
    for change in (-100, -50):
        systems.post("/wms/api/inventory-adjustments", {"itemId": "HW-20620-C", "qtyChange": change,
                                                        "reasonCode": "CYCLE_COUNT"})
    older, newer = systems.get("/wms/api/inventory-events", itemId="HW-20620-C")["data"]
    assert (older["onHandAfter"], newer["onHandAfter"]) == (39900, 39850)

    runs = [crossdock.run("wms/inventory-events", event) for event in (newer, older)]  # the late one last
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    [level] = systems.get("/oms/api/inventory_levels", sku="hw-20620-c")["inventory_levels"]
    assert level["available"] == 39850
    # each adjustment reaches the ERP once, whatever the order it arrived in
    [main] = systems.get("/erp/api/items/HW-20620-C/availability")["locations"]
    assert main["inventory"] == 39850


def test_available_to_promise_holds_back_reserved_stock_and_safety_stock(crossdock, systems):
    doc = crossdock.client.get("/api/v1/flows/inventory-sync").json["flow"]
    doc["params"]["safety_stock"]["default"] = 500
    crossdock.client.put("/api/v1/flows/inventory-sync", json=doc)
    assert crossdock.client.post("/api/v1/flows/inventory-sync/deploy").status_code == 201
    _released(crossdock, systems, ("hw-13687-b", 1000))  # allocates 1,000 in the WMS
    systems.post("/wms/api/inventory-adjustments", {"itemId": "HW-13687-B", "qtyChange": -7})
    [event] = [e for e in systems.get("/wms/api/inventory-events", itemId="HW-13687-B")["data"]
               if e["reasonCode"] == "ADJUSTMENT"]

    assert crossdock.run("wms/inventory-events", event).status == "succeeded"
    stock = systems.get("/wms/api/inventory/HW-13687-B")["data"]
    [level] = systems.get("/oms/api/inventory_levels", sku="hw-13687-b")["inventory_levels"]
    assert level["available"] == stock["onHandQty"] - 1000 - 500


def test_the_reconciliation_reports_and_fixes_drift(crossdock, systems):
    systems.post("/oms/api/inventory_levels/set", {"sku": "hw-55143-c", "available": 3})
    systems.post("/oms/api/inventory_levels/set", {"sku": "hw-30480-d", "available": 99999})
    r = crossdock.client.post("/api/v1/flows/inventory-sync/runs", json={})
    assert r.status_code == 202, r.get_data(as_text=True)
    run = crossdock.finished(r.json["run"]["id"])

    assert run.status == "succeeded", run.error
    assert run.output["checked"] == 25 and run.output["fixed"] == 2
    assert sorted(d["sku"] for d in run.output["drift"]) == ["hw-30480-d", "hw-55143-c"]
    levels = systems.get("/oms/api/inventory_levels", limit=250)["inventory_levels"]
    wms = {i["itemId"].lower(): i["availableQty"] for i in systems.get("/wms/api/inventory", pageSize=500)["data"]}
    assert {l["sku"]: l["available"] for l in levels} == wms


def test_a_partial_shipment_invoices_only_the_shipped_lines_and_leaves_the_rest_open(crossdock, systems):
    order, erp, wms = _released(crossdock, systems, ("hw-20620-c", 10), ("hw-13687-b", 5))
    shipment = systems.post(f"/wms/api/shipping-orders/{wms['id']}/ship-confirm", {"parcels": [
        {"trackingNumber": "1Z0000000042", "weightKg": 2.7, "lines": [{"lineNumber": 10000, "qty": 10}]}]})["data"]

    run = crossdock.run("wms/shipments", shipment)
    assert run.status == "succeeded", run.error
    [invoice] = systems.get("/erp/api/sales-invoices", orderNo=erp["no"])["value"]
    assert [(l["itemNo"], l["quantity"]) for l in invoice["lines"]] == [("HW-20620-C", 10)]
    assert invoice["totalAmountExcludingTax"] == 26.0
    after = systems.get(f"/erp/api/sales-orders/{erp['no']}")
    assert [(l["quantityShipped"], l["quantityInvoiced"]) for l in after["lines"]] == [(10, 10), (0, 0)]
    assert after["status"] == "Released" and after["shipStatus"] == "Partial"
    oms = systems.get(f"/oms/api/orders/{order['id']}")["order"]
    assert oms["status"] == "partially_shipped"
    [fulfillment] = oms["fulfillments"]
    assert (fulfillment["tracking_company"], fulfillment["tracking_number"]) == ("UPS", "1Z0000000042")
    assert [(l["sku"], l["quantity"]) for l in fulfillment["line_items"]] == [("hw-20620-c", 10)]


def test_a_backordered_line_stays_on_backorder_when_the_available_lines_ship(crossdock, systems):
    order, erp, wms = _released(crossdock, systems, ("hw-61610-c", 60))  # 48 in stock
    shipment = systems.post(f"/wms/api/shipping-orders/{wms['id']}/ship-confirm", {"parcels": [
        {"trackingNumber": "1Z0000000043", "lines": [{"lineNumber": 10000, "qty": 48}]}]})["data"]

    assert crossdock.run("wms/shipments", shipment).status == "succeeded"
    after = systems.get(f"/erp/api/sales-orders/{erp['no']}")
    [line] = after["lines"]
    assert (line["quantityShipped"], line["quantityInvoiced"], line["quantityBackordered"]) == (48, 48, 12)
    assert systems.get(f"/oms/api/orders/{order['id']}")["order"]["status"] == "partially_shipped"


def test_a_return_received_as_scrap_is_credited_without_restocking(crossdock, systems):
    order = systems.oms_order(ACME, ("hw-20620-c", 20))
    systems.call("PATCH", f"/oms/api/orders/{order['id']}", json={"order": {"status": "released"}})
    systems.post(f"/oms/api/orders/{order['id']}/fulfillments", {"fulfillment": {
        "line_items": [{"sku": "hw-20620-c", "quantity": 20}]}})
    returned = systems.post(f"/oms/api/orders/{order['id']}/returns", {"return": {
        "line_items": [{"sku": "hw-20620-c", "quantity": 5, "return_reason": "damaged"}]}})["order"]
    rma = returned["returns"][-1]
    assert crossdock.run("oms/returns", {**rma, "order": returned}).status == "succeeded"

    [expected] = systems.get("/wms/api/expected-receipts", receiptNumber=rma["name"])["data"]
    assert [(l["itemId"], l["expectedQty"]) for l in expected["lines"]] == [("HW-20620-C", 5)]
    receipt = systems.post(f"/wms/api/expected-receipts/{expected['id']}/receive", {"lines": [
        {"lineNumber": 1, "receivedQty": 5, "condition": "scrap"}]})["data"]
    run = crossdock.run("wms/receipts", receipt)
    assert run.status == "succeeded", run.error

    [memo] = systems.get("/erp/api/sales-credit-memos", customerNo="C-10442")["value"]
    assert [(l["itemNo"], l["quantity"], l["disposition"]) for l in memo["lines"]] == [("HW-20620-C", 5, "SCRAP")]
    assert memo["externalDocumentNo"] == receipt["receiptId"]
    ledger = systems.get("/erp/api/item-ledger-entries", itemNo="HW-20620-C")["value"]
    assert [e for e in ledger if e["entryType"] == "Sales Return"] == []
    assert systems.get("/erp/api/items/HW-20620-C/availability")["locations"][0]["inventory"] == 40000
    assert systems.get("/wms/api/inventory/HW-20620-C")["data"]["onHandQty"] == 40000
    oms = systems.get(f"/oms/api/orders/{order['id']}")["order"]
    assert oms["status"] == "refunded" and oms["refunds"][0]["amount"] == memo["totalAmountExcludingTax"]
