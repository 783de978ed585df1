"""GET /api/v1/flows/<id>/diff (issue 13): the draft against the deployed version by default, any two versions,
a never-deployed flow (everything added), and bad references as JSON errors."""
from __future__ import annotations

import copy


def _erp(doc: dict) -> dict:
    return next(n for n in doc["nodes"] if n["id"] == "erp_order")


SYSTEMS = {name: {"system": name, "base_url": f"http://127.0.0.1:5001/{name}/api"} for name in ("erp", "oms", "wms")}


def test_draft_against_deployed_and_between_versions(api):
    r = api.post("/api/v1/templates/import", json={"template": "order-release", "connections": SYSTEMS})
    assert r.status_code == 201 and r.json["deployed_version"] == 1, r.json
    assert api.get("/api/v1/flows/order-release/diff").json["diff"]["changed"] is False
    flow = api.get("/api/v1/flows/order-release").json["flow"]
    edited = copy.deepcopy(flow)
    _erp(edited)["config"]["body"] = _erp(edited)["config"]["body"].replace('"currencyCode": currency',
                                                                            '"currencyCode": "EUR"')
    _erp(edited)["position"] = {"x": 10, "y": 20}
    assert api.put("/api/v1/flows/order-release", json=edited).status_code == 200

    r = api.get("/api/v1/flows/order-release/diff")
    assert r.status_code == 200 and (r.json["from"]["ref"], r.json["to"]["ref"]) == ("deployed", "draft")
    diff = r.json["diff"]
    assert [n["id"] for n in diff["nodes_moved"]] == ["erp_order"] and diff["nodes_moved"][0]["to"] == {"x": 10, "y": 20}
    [changed] = diff["nodes_changed"]
    assert changed["mappings"] == [{"field": "config.body", "target": "currencyCode", "change": "changed",
                                    "before": "currency", "after": '"EUR"'}]

    deployed = api.post("/api/v1/flows/order-release/deploy")
    assert deployed.status_code == 201, deployed.json
    r = api.get("/api/v1/flows/order-release/diff?from=1&to=2")
    assert r.json["diff"]["nodes_changed"][0]["mappings"][0]["target"] == "currencyCode"
    assert api.get("/api/v1/flows/order-release/diff?from=deployed&to=draft").json["diff"]["changed"] is False
    back = api.get("/api/v1/flows/order-release/diff?from=2&to=1").json["diff"]["nodes_changed"][0]["mappings"][0]
    assert (back["before"], back["after"]) == ('"EUR"', "currency")


def test_a_flow_never_deployed_is_all_new_and_bad_refs_are_errors(api):
    doc = {"schema": "crossdock.flow/1", "id": "fresh", "name": "Fresh",
           "nodes": [{"id": "start", "type": "event.manual", "config": {}, "position": {"x": 0, "y": 0}}], "edges": []}
    assert api.post("/api/v1/flows", json=doc).status_code == 201
    r = api.get("/api/v1/flows/fresh/diff")
    assert r.status_code == 200 and [n["id"] for n in r.json["diff"]["nodes_added"]] == ["start"]
    for query, status, code in (("from=9", 404, "not_found"), ("to=x", 400, "invalid_argument"),
                                ("from=-1", 400, "invalid_argument"), ("to=99999999999", 400, "invalid_argument"),
                                ("from=%C2%B2", 400, "invalid_argument")):
        r = api.get(f"/api/v1/flows/fresh/diff?{query}")
        assert (r.status_code, r.json["error"]["code"]) == (status, code), query
    assert api.get("/api/v1/flows/nope/diff").status_code == 404
