"""Canonical records: what conforms, the field paths and business classes of what does not, JSON Schema."""
from __future__ import annotations

import jsonschema
import pytest

from flows import canonical

ORDER = {"number": "5001001", "customer_no": "C-10442",
         "ship_to": {"name": "Acme DC", "address1": "1 Main St", "city": "Columbus", "postal_code": "43217",
                     "country": "US"},
         "lines": [{"line_no": 1, "sku": "hw-20620-c", "quantity": 10, "price": 2.6},
                   {"line_no": 2, "sku": "hw-61610-c", "quantity": 1.5, "uom": "CS"}]}
GOOD = {
    "order": ORDER,
    "inventory_level": {"sku": "HW-20620-C", "location": "DC1", "on_hand": 40000, "reserved": 12},
    "inventory_reservation": {"sku": "HW-20620-C", "location": "DC1", "order_number": "SO1", "quantity": 4},
    "shipment": {"shipment_id": "SHP1", "order_number": "SO1", "parcels": [{"tracking_number": "1Z1"}],
                 "lines": [{"line_no": 10000, "sku": "HW-20620-C", "quantity": 10}]},
    "return": {"rma": "RMA-1", "order_number": "5001001", "customer_no": "C-10442",
               "lines": [{"sku": "hw-20620-c", "quantity": 2, "condition": "scrap"}]},
    "warehouse_event": {"kind": "short_pick", "warehouse": "DC1", "occurred_at": "2026-11-26T10:00:00Z",
                        "lines": [{"sku": "HW-20620-C", "quantity": -2}]},
}


@pytest.mark.parametrize("record", list(canonical.RECORDS))
def test_each_record_accepts_its_example_and_keeps_extra_fields(record):
    assert canonical.check(record, {**GOOD[record], "source_id": 7}) == []


@pytest.mark.parametrize("record", list(canonical.RECORDS))
def test_each_record_is_json_schema_with_id_and_version_that_accepts_the_example(record):
    schema = canonical.describe(record)
    assert schema["$id"] == f"crossdock.{record}/1" and schema["version"] == 1
    jsonschema.Draft202012Validator.check_schema(schema)
    assert jsonschema.Draft202012Validator(schema).is_valid(GOOD[record])


@pytest.mark.parametrize("change, field, business_class", [
    ({"ship_to": None}, "ship_to", "missing_ship_to"),
    ({"ship_to": {}}, "ship_to.name", "missing_ship_to"),
    ({"lines": [{"line_no": 1, "sku": "a", "quantity": -1}]}, "lines[0].quantity", "invalid_quantity"),
    ({"lines": [{"line_no": 1, "sku": "a", "quantity": 0}]}, "lines[0].quantity", "invalid_quantity"),
    ({"lines": [{"line_no": 1, "sku": "", "quantity": 1}]}, "lines[0].sku", "unknown_sku"),
    ({"lines": []}, "lines", "invalid_lines"),
    ({"lines": [{"sku": "a", "quantity": 1}]}, "lines[0].line_no", "invalid_lines"),
    ({"customer_no": None}, "customer_no", "unknown_customer"),
    ({"schema_version": 2}, "schema_version", "invalid_record"),
])
def test_an_order_that_does_not_conform_names_the_field_path_and_business_class(change, field, business_class):
    problems = canonical.check("order", {**ORDER, **change})
    assert {"field": field, "class": business_class} in [{k: p[k] for k in ("field", "class")} for p in problems]


def test_a_missing_field_is_reported_by_its_path_and_not_a_json_object_is_one_problem():
    problems = canonical.check("order", {k: v for k, v in ORDER.items() if k != "ship_to"})
    assert [(p["field"], p["class"]) for p in problems] == [("ship_to", "missing_ship_to")]
    assert canonical.check("order", [ORDER]) == [{"field": "", "class": "invalid_record",
                                                  "message": "a order must be a JSON object"}]


def test_a_return_condition_is_restock_or_scrap():
    bad = {**GOOD["return"], "lines": [{"sku": "a", "quantity": 1, "condition": "broken"}]}
    assert [(p["field"], p["class"]) for p in canonical.check("return", bad)] == [
        ("lines[0].condition", "invalid_condition")]


def test_an_unknown_record_type_is_a_key_error():
    with pytest.raises(KeyError):
        canonical.check("invoice", {})
