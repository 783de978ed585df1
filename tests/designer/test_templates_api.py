"""Templates, connections and lookup tables over the HTTP API: the gallery list, import with parameters,
export, and the errors a client gets for bad input (always JSON, never a 500)."""
from __future__ import annotations

import pytest


BUNDLED = ["order-release", "inventory-sync", "shipment-confirmation", "returns"]


def test_the_gallery_lists_the_bundled_templates_with_descriptions_and_parameter_definitions(api):
    templates = api.get("/api/v1/templates").json["templates"]
    assert [t["id"] for t in templates] == BUNDLED and {t["source"] for t in templates} == {"bundled"}
    release = templates[0]
    assert release["description"] and release["params"]["partial_shipment"]["default"] == "ship_available"
    assert {c["name"] for c in release["connections"]} == {"erp", "oms", "wms"}
    assert release["lookups"] == ["carriers", "sku_xref", "substitutions"] and release["samples"] == ["order"]
    assert api.get("/api/v1/templates/returns").json["flow"]["id"] == "returns"
    assert api.get("/api/v1/templates/nope").status_code == 404


def test_use_template_installs_and_deploys_with_the_parameter_values_and_reports_missing_connections(api):
    r = api.post("/api/v1/templates/import", json={"template": "inventory-sync", "params": {"safety_stock": 25}})
    assert r.status_code == 201, r.json
    assert r.json["deployed_version"] == 1 and r.json["params"]["safety_stock"] == 25
    assert r.json["missing_connections"] == ["erp", "oms", "wms"] and r.json["lookups_added"] == ["item_xref"]
    flow = api.get("/api/v1/flows/inventory-sync").json["flow"]
    assert flow["params"]["safety_stock"]["default"] == 25 and "event" in flow["samples"]
    again = api.post("/api/v1/templates/import", json={"template": "inventory-sync"})
    assert again.status_code == 409
    other = api.post("/api/v1/templates/import", json={"template": "inventory-sync", "flow_id": "inventory-sync-2"})
    assert other.status_code == 409 and other.json["error"]["code"] == "webhook_taken"


@pytest.mark.parametrize("body, status, code", [
    ({"template": "order-release", "params": {"nope": 1}}, 400, "unknown_param"),
    ({"template": "inventory-sync", "params": {"safety_stock": "ten"}}, 400, "invalid_param"),
    ({"template": "order-release", "params": []}, 400, "invalid_argument"),
    ({"bundle": {"schema": "x"}}, 400, "invalid_template"),
    ({"bundle": {"schema": "crossdock.template/1", "id": "t", "flow": {"schema": "crossdock.flow/1"}}}, 400,
     "invalid_document"),
    ({"bundle": {"schema": "crossdock.template/1", "id": "t", "flow": {}, "lookups": {"a": [1]}}}, 400,
     "invalid_template"),
    ({}, 400, "invalid_argument"),
    ([], 400, "invalid_argument"),
    ({"template": "order-release", "connections": {"erp": {"base_url": "nope"}}}, 400, "invalid_connection"),
])
def test_bad_imports_are_json_errors(api, body, status, code):
    r = api.post("/api/v1/templates/import", json=body)
    assert (r.status_code, r.json["error"]["code"]) == (status, code)


def test_export_bundles_flow_samples_lookups_and_connection_names_without_secrets(api):
    api.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "http://erp.example",
                                             "auth": {"type": "bearer", "token": "TOPSECRET"}})
    api.post("/api/v1/templates/import", json={"template": "returns"})
    api.put("/api/v1/lookups/sku_xref/rows/hw-custom", json={"value": "HW-CUSTOM"})
    r = api.get("/api/v1/flows/returns/export")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    bundle = r.json
    assert bundle["schema"] == "crossdock.template/1" and bundle["flow"]["id"] == "returns"
    assert "samples" not in bundle["flow"] and set(bundle["samples"]) == {"return", "receipt"}
    assert bundle["lookups"]["sku_xref"]["hw-custom"] == "HW-CUSTOM"
    assert bundle["connections"] == [{"name": "erp", "system": "erp"}, {"name": "oms", "system": "oms"},
                                     {"name": "wms", "system": "wms"}]
    assert "TOPSECRET" not in r.get_data(as_text=True)
    assert api.get("/api/v1/flows/nope/export").status_code == 404


def test_connections_api_never_shows_a_secret(api):
    r = api.put("/api/v1/connections/oms", json={"system": "oms", "base_url": "http://oms.example",
                                                 "auth": {"type": "api_key", "header": "X-Key", "key": "k-123"}})
    assert r.status_code == 200 and r.json["secret_set"] is True
    for body in (api.get("/api/v1/connections").get_data(as_text=True),
                 api.get("/api/v1/connections/oms").get_data(as_text=True)):
        assert "k-123" not in body and "X-Key" in body
    assert api.put("/api/v1/connections/oms", json={"base_url": 5}).json["error"]["details"] == [{"field": "base_url"}]
    assert api.delete("/api/v1/connections/oms").status_code == 204
    assert api.get("/api/v1/connections/oms").status_code == 404


def test_lookup_tables_are_edited_row_by_row_replaced_and_imported_from_csv(api):
    r = api.post("/api/v1/lookups/carriers/import", data="code,carrier\nGROUND,UPSN\nFREIGHT,ODFL\n",
                 content_type="text/csv")
    assert r.status_code == 201 and r.json["rows"] == 2
    assert api.get("/api/v1/lookups/carriers").json["rows"] == {"FREIGHT": "ODFL", "GROUND": "UPSN"}
    assert api.put("/api/v1/lookups/carriers/rows/EXPRESS", json={"value": "FDEG"}).status_code == 200
    csv = api.get("/api/v1/lookups/carriers?format=csv")
    assert csv.mimetype == "text/csv" and "EXPRESS,FDEG" in csv.get_data(as_text=True)
    assert api.get("/api/v1/lookups").json["tables"] == [{"table": "carriers", "rows": 3}]
    assert api.put("/api/v1/lookups/carriers", json={"rows": {"X": "Y"}}).json["rows"] == 1
    assert api.delete("/api/v1/lookups/carriers/rows/GROUND").status_code == 404
    bad = api.post("/api/v1/lookups/carriers/import", data="only-one-column\nx\n", content_type="text/csv")
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_lookup"
    assert api.put("/api/v1/lookups/bad%20name", json={"rows": {}}).status_code == 400
    assert api.post("/api/v1/lookups/t/import", data=b"\xff\xfe", content_type="text/csv").status_code == 400


def test_canonical_records_are_served_as_json_schema_for_the_inspector(api):
    records = api.get("/api/v1/records").json["records"]
    assert [r["$id"] for r in records][:2] == ["crossdock.order/1", "crossdock.inventory_level/1"]
    order = api.get("/api/v1/records/order").json
    assert order["properties"]["ship_to"]["x-business-class"] == "missing_ship_to"
    assert api.get("/api/v1/records/invoice").status_code == 404
