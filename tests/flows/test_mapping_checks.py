"""flows/mapping_checks.py and the unit table of flows/mapping_model.py, on plain dicts: which schema a mapping
writes, what an unmapped required field and a mistyped constant give, and the conversions of $convertUnit."""
from __future__ import annotations

import pytest

from flows.mapping_checks import check, problems, schema_ids
from flows.mapping_model import convert

BODY = {"type": "object", "required": ["no", "lines"], "properties": {
    "no": {"type": "string"}, "release": {"type": "boolean"}, "status": {"enum": ["Open", "Hold"]},
    "shipTo": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}},
    "lines": {"type": "array", "items": {"type": "object", "required": ["itemNo", "qty"],
                                         "properties": {"itemNo": {"type": "string"}, "qty": {"type": "integer"}}}}}}


def field(target, rule):
    return {"target": target, "rule": rule}


def test_required_fields_left_unmapped_are_warnings_and_mistyped_constants_errors():
    mapping = {"fields": [field("release", {"kind": "constant", "value": "yes"}),
                          field("status", {"kind": "constant", "value": "Hold"}),
                          field("shipTo.name", {"kind": "field", "path": "n"})],
               "arrays": [{"target": "lines", "source": "lines",
                           "fields": [field("qty", {"kind": "constant", "value": 2.5})]}]}
    found = problems(mapping, BODY, "erp.x.body")
    assert sorted((code, severity) for code, _, severity in found) == [
        ("mapping_type_mismatch", "error"), ("mapping_type_mismatch", "error"),
        ("mapping_unmapped_required", "warning"), ("mapping_unmapped_required", "warning"),
        ("mapping_unmapped_required", "warning")]
    messages = " | ".join(m for _, m, _ in found)
    for named in ("'no'", "'shipTo.city'", "'itemNo'", "'release' takes boolean", "'qty' takes integer"):
        assert named in messages
    mapping["fields"][0]["rule"]["value"] = True
    mapping["fields"][1]["rule"]["value"] = "Open"
    mapping["fields"] += [field("no", {"kind": "field", "path": "number"}), field("shipTo.city", {"kind": "field",
                                                                                                  "path": "c"})]
    mapping["arrays"][0]["fields"] = [field("qty", {"kind": "constant", "value": 2.0}),
                                      field("itemNo", {"kind": "field", "path": "sku"})]
    assert problems(mapping, BODY) == []


def test_the_target_of_a_connector_body_and_of_a_map_feeding_one_and_the_source_record_through_lookups():
    doc = {"nodes": [{"id": "in", "type": "event.webhook", "config": {}},
                     {"id": "c", "type": "transform.conform", "config": {"record": "order"}},
                     {"id": "x", "type": "transform.lookup", "config": {}},
                     {"id": "m", "type": "transform.map", "config": {"expression": "{}"}},
                     {"id": "erp", "type": "connector.erp", "config": {"operation": "upsert_sales_order"}},
                     {"id": "wms", "type": "connector.wms", "config": {"operation": "create_shipping_order",
                                                                       "body": "{}"}}],
           "edges": [{"source": "in", "target": "c"}, {"source": "c", "source_port": "out", "target": "x"},
                     {"source": "x", "target": "m"}, {"source": "m", "source_port": "out", "target": "erp"},
                     {"source": "erp", "target": "wms"}]}
    assert schema_ids(doc, "m") == ("order", "erp.upsert_sales_order.body")
    assert schema_ids(doc, "wms") == (None, "wms.create_shipping_order.body")  # after a system call: unknown
    assert schema_ids(doc, "in") == (None, None)
    seen = []
    assert check(doc, {"erp.upsert_sales_order.body": BODY}, lambda s: seen.append(s) or None) == []
    assert seen == ["{}"]  # the map's expression was read; the WMS body has no schema given; an unreadable one
    found = check(doc, {"erp.upsert_sales_order.body": BODY}, lambda s: {"fields": [], "arrays": []})
    assert {(p.node, p.field, p.code) for p in found} == {("m", "expression", "mapping_unmapped_required")}


@pytest.mark.parametrize("value,source,target,factor,expected", [
    (1, "kg", "lb", None, 2.204622622), (16, "oz", "lb", None, 1.0), (1, "ft", "in", None, 12.0),
    (250, "cm", "m", None, 2.5), (2, "dozen", "each", None, 24.0), (3, "case", "each", 24, 72.0),
    (48, "each", "case", 12, 4.0), (None, "kg", "g", None, None)])
def test_unit_conversions_by_the_fixed_factor_table(value, source, target, factor, expected):
    assert convert(value, source, target, factor) == pytest.approx(expected) if expected is not None else \
        convert(value, source, target, factor) is None


@pytest.mark.parametrize("args", [("x", "kg", "lb"), (1, "kg", "m"), (1, "case", "each"), (1, "stone", "kg"),
                                  (True, "kg", "g")])
def test_a_conversion_that_cannot_be_made_is_an_error(args):
    with pytest.raises(ValueError):
        convert(*args)


def test_a_table_a_mapping_looks_up_that_the_workspace_lacks_is_a_warning():
    from flows.references import Workspace
    from flows.references import check as references
    from nodes import catalog

    doc = {"id": "f", "nodes": [{"id": "m", "type": "transform.map", "config": {
        "expression": '{"a": $lookup("uom", u), "b": $lookup(\'sku_xref\', s, "?"), "c": $lookup({"x": 1}, "x")}'}}]}
    found = references(doc, catalog.specs(), Workspace("ws", lookups=frozenset({"uom"})))
    assert [(p.code, p.node, p.field, p.severity) for p in found] == [("unknown_lookup", "m", "expression",
                                                                       "warning")]
    assert "'sku_xref'" in found[0].message
    assert references(doc, catalog.specs(), Workspace("ws", lookups=frozenset({"uom", "sku_xref"}))) == []
    assert references(doc, catalog.specs(), Workspace("ws")) == []  # tables not known here: not checked
