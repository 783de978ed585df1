"""References checked against the workspace over the API: a connection or lookup table that is not there,
an undeclared param, a webhook path another deployed flow routes. Validate reports them as errors, a saved
draft as warnings, deploy (and rollback) refuses them with 422 naming node and field. Both backends."""
from __future__ import annotations

from support.flowdocs import edge

FLOWS = "/api/v1/flows"


def erp_flow(flow_id: str = "rel", connection: str = "erpp", table: str = "sku_xref", path: str = "orders") -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
            "params": {"ship_method": {"type": "string", "default": "GROUND"}},
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": path}},
                      {"id": "xref", "type": "transform.lookup",
                       "config": {"table": table, "items": "lines", "key": "sku", "missing": "keep"}},
                      {"id": "to_erp", "type": "connector.erp", "config": {
                          "connection": connection, "operation": "upsert_sales_order",
                          "body": "{'no': number, 'via': $ship_method}"}}],
            "edges": [edge(1, "hook", "xref"), edge(2, "xref", "to_erp")]}


def setup(api) -> None:
    assert api.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "http://127.0.0.1:9/erp"}
                   ).status_code == 200
    assert api.put("/api/v1/lookups/sku_xref", json={"rows": {"a": "A"}}).status_code == 200


def codes(problems) -> list[tuple]:
    return [(p["code"], p.get("node"), p.get("field"), p["severity"]) for p in problems]


def test_a_connection_typo_fails_validate_warns_on_the_draft_and_deploy_refuses_it_with_422(api):
    setup(api)
    r = api.post(f"{FLOWS}/validate", json=erp_flow())
    assert r.json["valid"] is False
    assert codes(r.json["problems"]) == [("unknown_connection", "to_erp", "connection", "error")]
    draft = api.post(FLOWS, json=erp_flow())
    assert codes(draft.json["problems"]) == [("unknown_connection", "to_erp", "connection", "warning")]
    assert codes(api.get(f"{FLOWS}/rel").json["problems"]) == codes(draft.json["problems"])
    assert codes(api.post(f"{FLOWS}/validate?draft=true", json=erp_flow()).json["problems"]) == \
        codes(draft.json["problems"])

    r = api.post(f"{FLOWS}/rel/deploy", json={})
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_failed"
    assert r.json["error"]["details"] == [{"code": "unknown_connection", "node": "to_erp", "field": "connection",
                                           "severity": "error", "message": "no connection 'erpp' in this "
                                                                           "workspace; did you mean 'erp'?"}]
    assert api.get(f"{FLOWS}/rel/versions").json["versions"] == []

    assert api.put(f"{FLOWS}/rel", json=erp_flow(connection="erp")).json["problems"] == []
    assert api.post(f"{FLOWS}/rel/deploy", json={}).status_code == 201


def test_a_connection_created_later_clears_the_problem(api):
    api.put("/api/v1/lookups/sku_xref", json={"rows": {"a": "A"}})
    assert api.post(f"{FLOWS}/validate", json=erp_flow(connection="erp")).json["valid"] is False
    api.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "http://127.0.0.1:9/erp"})
    assert api.post(f"{FLOWS}/validate", json=erp_flow(connection="erp")).json == {"valid": True, "problems": []}


def test_a_connection_of_another_system_is_refused_and_a_generic_http_one_is_taken(api):
    setup(api)
    api.put("/api/v1/connections/oms", json={"system": "oms", "base_url": "http://127.0.0.1:9/oms"})
    api.put("/api/v1/connections/gateway", json={"system": "http", "base_url": "http://127.0.0.1:9/erp"})
    problems = api.post(f"{FLOWS}/validate", json=erp_flow(connection="oms")).json["problems"]
    assert codes(problems) == [("connection_system", "to_erp", "connection", "error")]
    assert problems[0]["message"] == "connection 'oms' is for the OMS; this node calls the ERP"
    assert api.post(f"{FLOWS}/validate", json=erp_flow(connection="gateway")).json["valid"] is True


def test_lookup_tables_params_and_records_are_checked(api):
    setup(api)
    doc = erp_flow(connection="erp", table="sku_xreff")
    doc["nodes"][1]["config"]["missing"] = "reject"
    doc["nodes"][2]["config"]["body"] = "{'via': $ship_methd, 'run': $run.id}"
    doc["nodes"] += [{"id": "conform", "type": "transform.conform", "config": {"record": "order"}},
                     {"id": "end", "type": "control.discard", "config": {"reason": "the test reads problems only"}}]
    doc["edges"] += [edge(3, "to_erp", "conform"), edge(4, "xref", "end", "not_found"), edge(5, "conform", "end"),
                     edge(6, "conform", "end", "rejected")]
    problems = api.post(f"{FLOWS}/validate", json=doc).json["problems"]
    assert codes(problems) == [("unknown_lookup", "xref", "table", "error"),
                               ("unknown_param", "to_erp", "body", "error")]
    assert [p["message"] for p in problems] == [
        "no lookup table 'sku_xreff' in this workspace (or it has no rows); did you mean 'sku_xref'?",
        "$ship_methd is not a param of this flow; did you mean 'ship_method'?"]
    doc["nodes"][1]["config"]["missing"] = "keep"  # an empty table is harmless when unknown keys are kept
    doc["nodes"][3]["config"]["record"] = "ordr"  # the config schema names it once; no second problem
    problems = api.post(f"{FLOWS}/validate", json=doc).json["problems"]
    assert codes(problems) == [("config_invalid", "conform", "record", "error"),
                               ("unknown_lookup", "xref", "table", "warning"),
                               ("unknown_param", "to_erp", "body", "error")]


def test_a_webhook_path_another_deployed_flow_routes_is_reported_by_validate_and_deploy_stays_409(api):
    setup(api)
    api.post(FLOWS, json=erp_flow("first", connection="erp"))
    assert api.post(f"{FLOWS}/first/deploy", json={}).status_code == 201
    second = erp_flow("second", connection="erp")
    problems = api.post(f"{FLOWS}/validate", json=second).json["problems"]
    assert codes(problems) == [("webhook_taken", "hook", "path", "error")]
    assert "already used by deployed flow 'first'" in problems[0]["message"]
    assert api.post(f"{FLOWS}/validate", json=erp_flow("first", connection="erp")).json["valid"] is True  # its own
    api.post(FLOWS, json=second)
    r = api.post(f"{FLOWS}/second/deploy", json={})
    assert (r.status_code, r.json["error"]["code"]) == (409, "webhook_taken")


def test_a_rollback_to_a_version_whose_connection_is_gone_is_refused(api):
    setup(api)
    api.post(FLOWS, json=erp_flow(connection="erp"))
    assert api.post(f"{FLOWS}/rel/deploy", json={}).status_code == 201
    api.put("/api/v1/connections/erp2", json={"system": "erp", "base_url": "http://127.0.0.1:9/erp"})
    api.put(f"{FLOWS}/rel", json=erp_flow(connection="erp2"))
    assert api.post(f"{FLOWS}/rel/deploy", json={}).json["version"] == 2
    assert api.delete("/api/v1/connections/erp").status_code == 204
    r = api.post(f"{FLOWS}/rel/deploy", json={"version": 1})
    assert r.status_code == 422 and [(d["node"], d["field"]) for d in r.json["error"]["details"]] == [
        ("to_erp", "connection")]
    assert api.get(f"{FLOWS}/rel").json["deployed_version"] == 2
