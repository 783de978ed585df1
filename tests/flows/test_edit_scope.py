"""flows.edit_scope: a mapper's edits (mappings, lookup tables and keys, samples, layout) pass; every other
change is named, on the order-release template's flow."""
from __future__ import annotations

import copy
import json
import pathlib

import pytest

from flows import document
from flows.edit_scope import beyond_mapping

TEMPLATE = pathlib.Path(__file__).resolve().parents[2] / "flows" / "templates" / "order-release.json"


@pytest.fixture
def doc() -> dict:
    bundle = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    flow = bundle["flow"]
    flow["samples"] = bundle["samples"]
    return flow


def node(doc: dict, nid: str) -> dict:
    return next(n for n in doc["nodes"] if n["id"] == nid)


def codes(problems) -> list[tuple]:
    return [(p.code, p.node, p.field) for p in problems]


def test_an_unchanged_document_has_nothing_beyond_mapping(doc):
    assert beyond_mapping(doc, copy.deepcopy(doc)) == []


def test_a_loaded_document_equals_its_raw_form(doc):
    loaded, problems = document.load(copy.deepcopy(doc))
    assert problems == []
    assert beyond_mapping(loaded, doc) == []
    assert beyond_mapping(doc, loaded) == []


def test_mapping_lookup_sample_and_layout_edits_are_a_mappers(doc):
    new = copy.deepcopy(doc)
    node(new, "canonical")["config"]["expression"] = '{"changed": true}'
    node(new, "sku_xref")["config"]["table"] = "sku_map_v2"
    node(new, "sku_xref")["config"]["key"] = "item_code"
    node(new, "intake")["config"]["sample"] = {"order": 1}
    node(new, "policy")["position"] = {"x": 999, "y": -5}
    new["samples"] = {"order": {"id": "new"}, "another": [1, 2]}
    new["viewport"] = {"x": 10, "y": 20, "zoom": 1.5}
    new["edges"] = list(reversed(new["edges"]))
    for i, e in enumerate(new["edges"]):
        e["id"] = f"renamed{i}"  # the same connections under other ids: the structure is the same
    assert beyond_mapping(doc, new) == []


def test_a_removed_sample_field_is_a_mappers_edit_too(doc):
    new = copy.deepcopy(doc)
    del new["samples"]
    assert beyond_mapping(doc, new) == []


def test_added_and_removed_nodes(doc):
    new = copy.deepcopy(doc)
    new["nodes"] = [n for n in new["nodes"] if n["id"] != "already_released"]
    new["edges"] = [e for e in new["edges"] if "already_released" not in (e["source"], e["target"])]
    new["nodes"].append({"id": "extra", "type": "transform.map", "config": {"expression": "$"}})
    found = codes(beyond_mapping(doc, new))
    assert ("node_added", "extra", None) in found
    assert ("node_removed", "already_released", None) in found
    removed_edges = [p for p in beyond_mapping(doc, new) if p.code == "edge_removed"]
    assert removed_edges and all(p.edge for p in removed_edges)


def test_a_type_change_is_named_once(doc):
    new = copy.deepcopy(doc)
    node(new, "canonical")["type"] = "transform.conform"
    assert codes(beyond_mapping(doc, new)) == [("node_type_changed", "canonical", "type")]


def test_an_edge_rewired(doc):
    new = copy.deepcopy(doc)
    edge = new["edges"][0]
    edge["target_port"] = "elsewhere"
    found = beyond_mapping(doc, new)
    assert sorted(p.code for p in found) == ["edge_added", "edge_removed"]
    assert {p.edge for p in found} == {edge["id"]}


def test_other_config_fields_of_a_map_node(doc):
    new = copy.deepcopy(doc)
    node(new, "canonical")["config"]["allow_empty"] = False
    assert codes(beyond_mapping(doc, new)) == [("config_changed", "canonical", "allow_empty")]


def test_lookup_fields_other_than_table_and_key(doc):
    new = copy.deepcopy(doc)
    config = node(new, "carrier")["config"]
    config["missing"] = "reject"
    config["target"] = "elsewhere"
    assert codes(beyond_mapping(doc, new)) == [("config_changed", "carrier", "missing"),
                                               ("config_changed", "carrier", "target")]


def test_an_expression_field_of_another_node_type(doc):
    new = copy.deepcopy(doc)
    node(new, "policy")["config"]["rules"][0]["when"] = "true"
    node(new, "erp_order")["config"]["connection"] = "other-erp"
    assert codes(beyond_mapping(doc, new)) == [("config_changed", "erp_order", "connection"),
                                               ("config_changed", "policy", "rules")]


def test_a_mapping_field_on_a_node_of_another_type_is_not_a_mapping(doc):
    new = copy.deepcopy(doc)
    node(new, "dedupe")["config"]["expression"] = "$"
    node(new, "conform")["config"]["table"] = "t"
    assert codes(beyond_mapping(doc, new)) == [("config_changed", "conform", "table"),
                                               ("config_changed", "dedupe", "expression")]


@pytest.mark.parametrize("key, value", [("name", "Renamed"), ("notes", "a note"), ("disabled", True),
                                        ("type_version", 2)])
def test_node_fields(doc, key, value):
    new = copy.deepcopy(doc)
    node(new, "dedupe")[key] = value
    assert codes(beyond_mapping(doc, new)) == [("node_changed", "dedupe", key)]


@pytest.mark.parametrize("key, value", [("name", "Renamed"), ("description", "x"), ("settings", {}),
                                        ("params", {}), ("id", "other")])
def test_flow_fields(doc, key, value):
    new = copy.deepcopy(doc)
    new[key] = value
    assert codes(beyond_mapping(doc, new)) == [("flow_changed", None, key)]


def test_a_param_default_is_not_a_mapping(doc):
    new = copy.deepcopy(doc)
    new["params"]["ship_method"]["default"] = "EXPRESS"
    assert codes(beyond_mapping(doc, new)) == [("flow_changed", None, "params")]


def test_a_secret_sent_back_masked_is_kept_but_a_new_one_is_a_change():
    old = {"schema": "crossdock.flow/1", "id": "f", "nodes": [
        {"id": "call", "type": "connector.http", "config": {"url": "https://x", "auth": {"token": "s3cret"},
                                                           "headers": {"X-Api-Key": "k"}}}], "edges": []}
    masked = copy.deepcopy(old)
    masked["nodes"][0]["config"]["auth"]["token"] = "********"
    masked["nodes"][0]["config"]["headers"]["X-Api-Key"] = "********"
    assert beyond_mapping(old, masked) == []
    changed = copy.deepcopy(old)
    changed["nodes"][0]["config"]["auth"]["token"] = "other"
    assert codes(beyond_mapping(old, changed)) == [("config_changed", "call", "auth")]
    added = copy.deepcopy(old)
    added["nodes"][0]["config"]["password"] = "********"  # no stored value to keep: a change
    assert codes(beyond_mapping(old, added)) == [("config_changed", "call", "password")]


def test_not_documents():
    assert [p.code for p in beyond_mapping([], {})] == ["invalid_document"]
    assert [p.code for p in beyond_mapping({}, "x")] == ["invalid_document"]


def test_garbage_inside_a_document_gives_problems_not_exceptions(doc):
    new = copy.deepcopy(doc)
    new["nodes"] = [1, None, {"id": 5}, *new["nodes"]]
    new["edges"] = "not a list"
    found = beyond_mapping(doc, new)  # it does not load: compared as it is, still without an exception
    assert "edge_removed" in {p.code for p in found} and "node_removed" not in {p.code for p in found}
    assert beyond_mapping({"nodes": "x"}, {"nodes": [{"id": "a", "type": "t", "config": []}]})[0].code == "node_added"
