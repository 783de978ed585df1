"""Golden: money adds up. Order totals agree across the source system, the mapping's output and the amount
the ERP books, for percentage discounts, amount discounts and both on one line."""
from __future__ import annotations

import copy
import json
import pathlib

from designer import samples

ACME = 7001
SAMPLE_ORDER = pathlib.Path(samples.SAMPLES_DIR, "order.json")
DISCOUNTS = {
    "percentage": [{"value_type": "percentage", "value": "10"}],
    "amount": [{"value_type": "fixed_amount", "value": "0.25"}],
    "both": [{"value_type": "percentage", "value": "5"}, {"value_type": "fixed_amount", "value": "0.25"}],
}


def test_order_release_books_in_the_erp_what_the_customer_pays_in_the_oms(crossdock, systems):
    for kind, discounts in DISCOUNTS.items():
        body = {"customer": {"id": ACME}, "line_items": [
            {"sku": "hw-13687-b", "quantity": 60, "price": "13.33", "discounts": discounts},
            {"sku": "hw-20620-c", "quantity": 7, "price": "2.61", "discounts": DISCOUNTS["both"]},
            {"sku": "hw-33126-c", "quantity": 3}]}
        order = systems.post("/oms/api/orders", {"order": body})["order"]
        assert float(order["total_discounts"]) > 0
        run = crossdock.run("oms/orders", order)
        assert run.status == "succeeded", (kind, run.error)

        [mapped] = [s.output for s in crossdock.steps(run.id) if s.node_id == "canonical"]
        [erp] = systems.erp_orders(str(order["id"]))
        assert float(order["total_price"]) == mapped["total"] == erp["amount"], kind
        for oms_line, erp_line in zip(order["line_items"], erp["lines"]):  # and line by line
            paid = round(float(oms_line["price"]) * oms_line["quantity"] - float(oms_line["total_discount"]), 2)
            assert (erp_line["lineAmount"], erp_line["lineDiscountAmount"]) == (
                paid, float(oms_line["total_discount"])), kind


def test_order_sync_books_the_total_its_mapping_computes_for_each_kind_of_discount(crossdock, systems):
    samples.install(crossdock.rt, crossdock.workspace, systems.url)
    order = json.loads(SAMPLE_ORDER.read_text())  # line 3: 5 % and $0.25 off each unit
    mapped, erp = _order_sync(crossdock, systems, order)
    assert mapped["SO_HEADER"]["ORDER_TOTAL"] == erp["amount"] == 1791.02  # the ERP booked 1,792.27 before
    assert [l["lineAmount"] for l in erp["lines"]] == [l["NET"] for l in mapped["LINES"]]

    for n, discounts in enumerate(([{"type": "pct", "value": 12.5}], [{"type": "amt", "value": 1.37}],
                                   [{"type": "pct", "value": 3}, {"type": "amt", "value": 0.05}])):
        variant = copy.deepcopy(order)
        variant["orderId"] = f"SO-2026-77700{n}"
        for line in variant["lines"]:
            line["discounts"] = discounts
        mapped, erp = _order_sync(crossdock, systems, variant)
        gross = sum(l["qty"] * l["unitPrice"] for l in variant["lines"] if l["qty"] > 0)
        assert mapped["SO_HEADER"]["ORDER_TOTAL"] == erp["amount"] < round(gross, 2), discounts
        assert [l["lineAmount"] for l in erp["lines"]] == [l["NET"] for l in mapped["LINES"]], discounts


def _order_sync(crossdock, systems, order: dict):
    run = crossdock.run("orders", order)
    assert run.status == "succeeded", run.error
    [mapped] = [s.output for s in crossdock.steps(run.id) if s.node_id == "to_erp"]
    [erp] = systems.erp_orders(order["orderId"])
    return mapped, erp


def test_a_return_credits_and_refunds_what_the_customer_paid_for_the_units_returned(crossdock, systems):
    order = systems.post("/oms/api/orders", {"order": {"customer": {"id": ACME}, "line_items": [
        {"sku": "hw-20620-c", "quantity": 4}, {"sku": "hw-13687-b", "quantity": 60, "price": "13.33",
                                                "discounts": DISCOUNTS["both"]}]}})["order"]
    assert crossdock.run("oms/orders", order).status == "succeeded"
    [erp] = systems.erp_orders(str(order["id"]))
    [wms] = systems.wms_orders(erp["no"])
    shipment = systems.post(f"/wms/api/shipping-orders/{wms['id']}/ship-confirm", {"parcels": [
        {"trackingNumber": "1Z0000000401", "lines": [{"lineNumber": 10000, "qty": 4}, {"lineNumber": 20000, "qty": 60}]}]}
    )["data"]
    assert crossdock.run("wms/shipments", shipment).status == "succeeded"
    returned = systems.post(f"/oms/api/orders/{order['id']}/returns", {"return": {"line_items": [
        {"sku": "hw-13687-b", "quantity": 5, "return_reason": "damaged"}]}})["order"]
    rma = returned["returns"][-1]
    assert crossdock.run("oms/returns", {**rma, "order": returned}).status == "succeeded"
    [expected] = systems.get("/wms/api/expected-receipts", receiptNumber=rma["name"])["data"]
    receipt = systems.post(f"/wms/api/expected-receipts/{expected['id']}/receive", {"lines": [
        {"lineNumber": 1, "receivedQty": 5, "condition": "restock"}]})["data"]
    run = crossdock.run("wms/receipts", receipt)
    assert run.status == "succeeded", run.error

    sold = order["line_items"][1]
    paid = round(5 * float(sold["price"]) - float(sold["total_discount"]) * 5 / 60, 2)  # 66.65 - 4.58
    [memo] = systems.get("/erp/api/sales-credit-memos", customerNo="C-10442")["value"]
    [invoice] = systems.get("/erp/api/sales-invoices", orderNo=erp["no"])["value"]
    [invoiced] = [l for l in invoice["lines"] if l["itemNo"] == "HW-13687-B"]
    assert memo["totalAmountExcludingTax"] == paid == round(invoiced["lineAmount"] * 5 / 60, 2)
    refund = systems.get(f"/oms/api/orders/{order['id']}")["order"]["refunds"][-1]
    assert refund["amount"] == paid
