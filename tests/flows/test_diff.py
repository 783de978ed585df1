"""flows.diff.version_diff on the order-release template's flow: nodes added, removed and moved, config changes
per field, mapping changes per target field (nested ones too), and the whole-expression fallback."""
from __future__ import annotations

import copy
import json
import pathlib

import pytest

from flows.diff import flow_diff, mapping_changes, version_diff
from flows.target_fields import mapping_fields as fields_of
from nodes.expression_tree import tree

TEMPLATE = pathlib.Path(__file__).resolve().parents[2] / "flows" / "templates" / "order-release.json"


@pytest.fixture
def doc() -> dict:
    return json.loads(TEMPLATE.read_text(encoding="utf-8"))["flow"]


def node(doc: dict, nid: str) -> dict:
    return next(n for n in doc["nodes"] if n["id"] == nid)


def test_no_change_is_an_empty_diff_and_the_viewport_is_no_change(doc):
    d = version_diff(doc, {**copy.deepcopy(doc), "viewport": {"x": 1, "y": 2, "zoom": 1}}, tree)
    assert d["changed"] is False and not d["nodes_changed"] and not d["nodes_moved"]
    d = version_diff(doc, {**doc, "description": "new"}, tree)
    assert d["flow_fields"] == [{"field": "description", "change": "changed", "before": doc["description"],
                                 "after": "new"}]


def test_nodes_added_removed_and_moved_and_config_per_field(doc):
    new = copy.deepcopy(doc)
    node(new, "carrier")["position"] = {"x": 1, "y": 2}
    node(new, "carrier")["config"]["default"] = "FDEG"
    node(new, "carrier")["name"] = "Carrier"
    new["nodes"] = [n for n in new["nodes"] if n["id"] != "oms_wait"]
    new["nodes"].append({"id": "extra", "type": "transform.map", "type_version": 1, "config": {"expression": "$"},
                         "position": {"x": 0, "y": 0}})
    d = version_diff(doc, new, tree)
    assert [n["id"] for n in d["nodes_added"]] == ["extra"]
    assert [n["id"] for n in d["nodes_removed"]] == ["oms_wait"]
    assert d["nodes_moved"] == [{"id": "carrier", "name": "Carrier", "type": "transform.lookup",
                                 "from": {"x": 1360, "y": 200}, "to": {"x": 1, "y": 2}}]
    [changed] = d["nodes_changed"]
    assert changed["fields"] == [
        {"field": "name", "change": "changed", "before": "Ship method to carrier", "after": "Carrier"},
        {"field": "config.default", "change": "changed", "before": "UPSN", "after": "FDEG"}]
    assert d["edges_removed"] == [] and d["flow_fields"] == [] and d["changed"]
    new["edges"] = new["edges"][1:]
    assert version_diff(doc, new, tree)["edges_removed"] == ["intake.out -> canonical.in"]


def test_a_mapping_change_is_reported_per_target_field_nested_too(doc):
    new = copy.deepcopy(doc)
    erp = node(new, "erp_order")["config"]
    erp["body"] = (erp["body"].replace('"currencyCode": currency', '"currencyCode": "EUR"')
                   .replace('"city": ship_to.city', '"city": $uppercase(ship_to.city)')
                   .replace('"release": true,', '"release": true,\n  "memo": reference,'))
    [changed] = version_diff(doc, new, tree)["nodes_changed"]
    assert changed["fields"] == []
    assert changed["mappings"] == [
        {"field": "config.body", "target": "currencyCode", "change": "changed", "before": "currency",
         "after": '"EUR"'},
        {"field": "config.body", "target": "memo", "change": "added", "before": None, "after": "reference"},
        {"field": "config.body", "target": "shipTo.city", "change": "changed", "before": "ship_to.city",
         "after": "$uppercase(ship_to.city)"}]


def test_a_mapping_that_is_no_object_is_one_whole_expression_change(doc):
    new = copy.deepcopy(doc)
    node(new, "erp_order")["config"]["body"] = "$"
    [changed] = version_diff(doc, new, tree)["nodes_changed"]
    assert changed["mappings"] == [] and [f["field"] for f in changed["fields"]] == ["config.body"]
    assert mapping_changes("{ 'a': 1 }", "$", tree) is None


def test_mapping_fields_reads_keys_through_strings_comments_and_blocks():
    text = "( $x := 1; { 'A': 'a,}' /* , } */, \"B\": [1, 2], 'C': x.{ 'D': d } } )"
    assert fields_of(text, tree) == {"A": "'a,}' /* , } */", "B": "[1, 2]", "C.D": "d", "C": "x.{…}"}
    assert fields_of("{ $k: 1 }", tree) is None and fields_of("{", tree) is None and fields_of(5, tree) is None


def test_the_audit_summary_is_unchanged(doc):
    new = copy.deepcopy(doc)
    node(new, "erp_order")["config"]["body"] = "$"
    assert flow_diff(doc, new)["nodes_changed"][0]["fields"] == ["config.body"]


def test_long_values_are_cut(doc):
    new = copy.deepcopy(doc)
    node(new, "carrier")["config"]["default"] = "x" * 5000
    [field] = version_diff(doc, new, tree)["nodes_changed"][0]["fields"]
    assert len(field["after"]) == 2001 and field["after"].endswith("…")
