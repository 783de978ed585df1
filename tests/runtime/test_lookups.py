"""Lookup (cross-reference) tables per workspace, and their CSV form."""
from __future__ import annotations

import pytest

from runtime import lookups


def test_replace_put_get_remove_per_workspace(rt, workspace):
    assert lookups.replace(rt, workspace, "sku_xref", {"hw-1": "HW-1", "hw-2": "HW-2"}) == 2
    lookups.put(rt, workspace, "sku_xref", "hw-3", {"item": "HW-3", "uom": "EA"})
    lookups.put(rt, workspace, "sku_xref", "hw-1", "HW-1B")
    assert lookups.get(rt, workspace, "sku_xref", "hw-1") == "HW-1B"
    assert lookups.get(rt, workspace, "sku_xref", "hw-3") == {"item": "HW-3", "uom": "EA"}
    assert lookups.get(rt, workspace, "sku_xref", "nope") is None
    rt.ensure_workspace(workspace + "x")
    assert lookups.get(rt, workspace + "x", "sku_xref", "hw-1") is None
    assert lookups.tables(rt, workspace) == [{"table": "sku_xref", "rows": 3}]
    assert lookups.remove(rt, workspace, "sku_xref", "hw-2") == 1
    assert lookups.replace(rt, workspace, "sku_xref", {"a": "b"}) == 1
    assert lookups.rows(rt, workspace, "sku_xref") == {"a": "b"}


def test_csv_with_two_columns_gives_text_values_with_more_gives_objects():
    assert lookups.parse_csv("oms_sku,erp_item\nhw-1,HW-1\n\n hw-2 , HW-2 \n") == {"hw-1": "HW-1", "hw-2": "HW-2"}
    assert lookups.parse_csv("\ufeffcode,name,mode\nUPSN,UPS,PARCEL\n".lstrip("\ufeff")) == {
        "UPSN": {"name": "UPS", "mode": "PARCEL"}}


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("key\nx\n", "header"), ("k,v\na,1\na,2\n", "appears twice"), ("k,v\na\n", "line 2 has 1"),
    ("k,v\n,1\n", "no key"),
])
def test_bad_csv_says_which_line(text, message):
    with pytest.raises(lookups.InvalidLookup, match=message):
        lookups.parse_csv(text)


def test_csv_round_trip():
    rows = {"UPSN": {"name": "UPS", "mode": "PARCEL"}, "ODFL": {"name": "Old Dominion, LTL", "mode": "LTL"}}
    assert lookups.parse_csv(lookups.to_csv(rows)) == rows
    assert lookups.parse_csv(lookups.to_csv({"a": "b"})) == {"a": "b"}


def test_the_flows_that_use_a_table_by_a_lookup_node_or_a_lookup_call(client, workspace):
    """GET /lookups/<table>/flows: drafts whose lookup node names the table or whose expression calls $lookup on it;
    another table's users and another workspace's flows are not listed."""
    def flow(flow_id, node):
        return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id.title(),
                "nodes": [{"id": "start", "type": "event.manual", "config": {}}, node], "edges": []}

    docs = [flow("by-node", {"id": "xref", "type": "transform.lookup", "config": {"table": "skus", "key": "sku"}}),
            flow("by-call", {"id": "map", "type": "transform.map",
                             "config": {"expression": "{'item': $lookup('skus', sku)}"}}),
            flow("other", {"id": "xref", "type": "transform.lookup", "config": {"table": "skus2", "key": "sku"}})]
    for doc in docs:
        assert client.post("/api/v1/flows", json=doc).status_code == 201
    r = client.get("/api/v1/lookups/skus/flows")
    assert r.status_code == 200
    assert r.json == {"table": "skus", "flows": [{"flow_id": "by-call", "name": "By-Call", "nodes": ["map"]},
                                                 {"flow_id": "by-node", "name": "By-Node", "nodes": ["xref"]}]}
    assert client.get("/api/v1/lookups/nothing/flows").json["flows"] == []
    assert client.get("/api/v1/lookups/bad%0Aname/flows").status_code == 400
