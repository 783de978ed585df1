"""Golden: bad orders end as business exceptions with their field path and class, the OMS is told, nothing crashes."""
from __future__ import annotations

import pytest

from runtime import lookups

ACME = 7001


def _rejected(crossdock, systems, order: dict, payload: dict, business_class: str, field: str):
    run = crossdock.run("oms/orders", payload)
    assert run.status == "failed"
    [exception] = crossdock.dead_letters(run.id)
    assert (exception.code, exception.error_class, exception.node_id) == (business_class, "business",
                                                                           "reject_exception")
    assert field in exception.message
    [step] = [s for s in crossdock.steps(run.id) if s.node_id == "reject_exception"]
    assert step.error["field"] == field and step.error["class"] == "business"
    oms = systems.get(f"/oms/api/orders/{order['id']}")["order"]
    assert oms["status"] == "on_hold" and oms["tags"] == f"crossdock:{business_class}"
    assert business_class in oms["note"] and field in oms["note"]
    assert systems.erp_orders(str(order["id"])) == []
    return exception


@pytest.mark.parametrize("address", [{}, None])
def test_an_order_missing_its_ship_to_is_rejected_by_conform(crossdock, systems, address):
    order = systems.oms_order(ACME, ("hw-20620-c", 10))
    exception = _rejected(crossdock, systems, order, {**order, "shipping_address": address}, "missing_ship_to",
                          "ship_to")
    assert exception.payload["rejection"]["record"] == "order"


def test_an_order_with_an_unknown_sku_is_rejected_by_the_lookup(crossdock, systems):
    lookups.remove(crossdock.rt, crossdock.workspace, "sku_xref", "hw-87462-d")  # not cross-referenced
    order = systems.oms_order(ACME, ("hw-20620-c", 10), ("hw-87462-d", 3))
    exception = _rejected(crossdock, systems, order, order, "unknown_sku", "lines[1].sku")
    assert "'hw-87462-d' is not in lookup table 'sku_xref'" in exception.message


def test_an_order_with_a_negative_quantity_is_rejected_by_conform(crossdock, systems):
    order = systems.oms_order(ACME, ("hw-20620-c", 10), ("hw-13687-b", 2))
    bad = {**order, "line_items": [order["line_items"][0], {**order["line_items"][1], "quantity": -2}]}
    _rejected(crossdock, systems, order, bad, "invalid_quantity", "lines[1].quantity")


@pytest.mark.parametrize("payload", [[], "text", {"id": None}, {"line_items": "x"}, {"id": 1, "line_items": [None]}])
def test_garbage_never_crashes_a_step_it_becomes_an_exception_of_its_business_class(crossdock, payload):
    run = crossdock.run("oms/orders", payload)  # no OMS order to tell: the exception says so
    assert run.status == "failed"
    [exception] = crossdock.dead_letters(run.id)
    assert exception.error_class == "business" and exception.node_id == "reject_exception"
    assert exception.code in ("invalid_record", "missing_order_number", "unknown_customer", "missing_ship_to",
                              "invalid_lines")
    assert "the OMS could not be told" in exception.message
