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
