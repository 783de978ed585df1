"""flows.merge: a template upgrade's three-way merge on the order-release flow: theirs applied where we did not
change, ours kept where they did not, per mapping target field and per lookup row; conflicts named by path,
resolved as ours or theirs."""
from __future__ import annotations

import copy
import json
import pathlib

import pytest

from flows.merge import merge
from flows.target_fields import mapping_fields as fields_of
from nodes.expression_tree import tree

TEMPLATE = pathlib.Path(__file__).resolve().parents[2] / "flows" / "templates" / "order-release.json"


@pytest.fixture
def base() -> dict:
    return json.loads(TEMPLATE.read_text(encoding="utf-8"))["flow"]


def merged(*args, **kwargs) -> dict:
    return merge(*args, parse=tree, **kwargs)


def node(doc: dict, nid: str) -> dict:
    return next(n for n in doc["nodes"] if n["id"] == nid)


def body(doc: dict) -> str:
    return node(doc, "erp_order")["config"]["body"]


def edit_body(doc: dict, old: str, new: str) -> None:
    assert old in body(doc)
    node(doc, "erp_order")["config"]["body"] = body(doc).replace(old, new)


def test_nothing_changed_merges_to_ours_without_conflicts(base):
    out = merged(base, copy.deepcopy(base), copy.deepcopy(base), {}, {}, {})
    assert out["document"] == base and out["conflicts"] == [] and out["changes"] == [] and out["lookups"] == {}


def test_both_edit_other_target_fields_of_one_mapping_and_both_are_kept(base):
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    edit_body(ours, '"currencyCode": currency', '"currencyCode": "EUR"')
    edit_body(theirs, '"customerNo": customer_no', '"customerNo": $uppercase(customer_no)')
    edit_body(theirs, '"release": true,', '"release": true,\n  "memo": reference,')
    out = merged(base, ours, theirs, {}, {}, {})
    assert out["conflicts"] == []
    fields = fields_of(body(out["document"]), tree)
    assert fields["currencyCode"] == '"EUR"' and fields["customerNo"] == "$uppercase(customer_no)"
    assert fields["memo"] == "reference" and fields["orderDate"] == fields_of(body(base), tree)["orderDate"]
    assert tree(body(out["document"])) is not None
    assert {c["target"] for c in out["changes"]} == {"customerNo", "memo"}


def test_a_target_field_both_changed_is_a_conflict_resolved_either_way(base):
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    edit_body(ours, '"currencyCode": currency', '"currencyCode": "EUR"')
    edit_body(theirs, '"currencyCode": currency', '"currencyCode": "USD"')
    [conflict] = merged(base, ours, theirs, {}, {}, {})["conflicts"]
    assert conflict["id"] == "nodes.erp_order.config.body.currencyCode" and conflict["resolution"] is None
    assert (conflict["node"], conflict["target"], conflict["ours"], conflict["theirs"]) == (
        "erp_order", "currencyCode", '"EUR"', '"USD"')
    for side, value in (("ours", '"EUR"'), ("theirs", '"USD"')):
        out = merged(base, ours, theirs, {}, {}, {}, {conflict["id"]: side})
        assert fields_of(body(out["document"]), tree)["currencyCode"] == value
        assert out["conflicts"][0]["resolution"] == side


def test_target_fields_added_and_removed_by_theirs(base):
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    edit_body(ours, '"currencyCode": currency', '"currencyCode": "EUR"')
    edit_body(theirs, '  "requestedDeliveryDate": requested_date,\n', '')
    edit_body(theirs, '"release": true,', '"release": true,\n  "memo": reference,')
    out = merged(base, ours, theirs, {}, {}, {})
    fields = fields_of(body(out["document"]), tree)
    assert "requestedDeliveryDate" not in fields and fields["memo"] == "reference" and fields["currencyCode"] == '"EUR"'


def test_config_fields_nodes_and_edges(base):
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    node(ours, "carrier")["position"] = {"x": 5, "y": 5}
    node(theirs, "carrier")["config"]["default"] = "FDEG"
    theirs["nodes"].append({"id": "audit", "type": "transform.map", "type_version": 1, "config": {"expression": "$"},
                            "position": {"x": 0, "y": 0}})
    theirs["edges"].append({"id": "e-audit", "source": "carrier", "source_port": "out", "target": "audit",
                            "target_port": "in"})
    out = merged(base, ours, theirs, {}, {}, {})
    doc = out["document"]
    assert node(doc, "carrier")["position"] == {"x": 5, "y": 5} and node(doc, "carrier")["config"]["default"] == "FDEG"
    assert node(doc, "audit") and any(e["target"] == "audit" for e in doc["edges"]) and out["conflicts"] == []


def test_a_node_we_edited_and_they_removed_is_a_conflict(base):
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    node(ours, "carrier")["config"]["default"] = "FDEG"
    theirs["nodes"] = [n for n in theirs["nodes"] if n["id"] != "carrier"]
    [conflict] = merged(base, ours, theirs, {}, {}, {})["conflicts"]
    assert conflict["id"] == "nodes.carrier" and conflict["theirs"] is None
    out = merged(base, ours, theirs, {}, {}, {}, {"nodes.carrier": "theirs"})
    assert "carrier" not in {n["id"] for n in out["document"]["nodes"]}
    assert all("carrier" not in (e["source"], e["target"]) for e in out["document"]["edges"])


def test_lookup_rows_merge_per_row(base):
    b = {"carriers": {"GROUND": "UPSN", "EXPRESS": "FDEG", "FREIGHT": "ODFL"}}
    o = {"carriers": {"GROUND": "UPSN", "EXPRESS": "DHL", "FREIGHT": "ODFL", "LOCAL": "OWN"}}
    t = {"carriers": {"GROUND": "UPSG", "EXPRESS": "FDX2", "FREIGHT": "ODFL"}}
    out = merged(base, base, base, b, o, t)
    [conflict] = out["conflicts"]
    assert conflict["id"] == "lookups.carriers.rows.EXPRESS" and (conflict["ours"], conflict["theirs"]) == ("DHL", "FDX2")
    assert out["lookups"]["carriers"] == {"GROUND": "UPSG", "EXPRESS": "DHL", "FREIGHT": "ODFL", "LOCAL": "OWN"}
    out = merged(base, base, base, b, o, t, {conflict["id"]: "theirs"})
    assert out["lookups"]["carriers"]["EXPRESS"] == "FDX2"


def test_without_a_parser_a_mapping_both_changed_is_one_conflict(base):
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    edit_body(ours, '"currencyCode": currency', '"currencyCode": "EUR"')
    edit_body(theirs, '"customerNo": customer_no', '"customerNo": $uppercase(customer_no)')
    [conflict] = merge(base, ours, theirs, {}, {}, {})["conflicts"]
    assert conflict["id"] == "nodes.erp_order.config.body" and "target" not in conflict
