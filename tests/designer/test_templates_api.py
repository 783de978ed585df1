"""Templates, connections and lookup tables over the HTTP API: the gallery list, import with parameters,
export, and the errors a client gets for bad input (always JSON, never a 500)."""
from __future__ import annotations

import copy

import pytest

from support.rows import snapshot


BUNDLED = ["order-release", "inventory-sync", "shipment-confirmation", "returns", "edi-order-intake", "edi-asn-out"]


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


def _returns_bundle(api) -> dict:
    return copy.deepcopy(api.get("/api/v1/templates/returns").json)


def _with(bundle: dict, path: tuple, value) -> dict:
    bundle = copy.deepcopy(bundle)
    here = bundle
    for key in path[:-1]:
        here = here[key]
    here[path[-1]] = value
    return bundle


BAD_BUNDLES = {  # each refused whole: (change to the returns bundle, field named in the error)
    "lookup table ../../etc": (("lookups", "../../etc"), {"a": "b"}, "lookups.../../etc"),
    "lookup table that is a list": (("lookups", "sku_xref"), [1, 2], "lookups.sku_xref"),
    "lookup key that is empty": (("lookups", "extra"), {"": "x"}, "lookups.extra"),
    "connections that are not objects": (("connections",), ["x", 1], "connections[0]"),
    "a connection named ../x": (("connections",), [{"name": "../x", "system": "erp"}], "connections[0]"),
    "a connection of no known system": (("connections",), [{"name": "erp", "system": "sap"}], "connections[0].system"),
    "connections that are an object": (("connections",), {"erp": "erp"}, "connections"),
    "an id that is a path": (("id",), "../../etc", "id"),
    "a name that is not text": (("name",), {"x": 1}, "name"),
}


@pytest.mark.parametrize("case", list(BAD_BUNDLES))
def test_a_bundle_with_any_bad_part_is_refused_before_anything_is_written(api, store, workspace, case):
    """The flow used to be created before the lookups were checked: a retry then got 409."""
    path, value, field = BAD_BUNDLES[case]
    good = _returns_bundle(api)
    before = snapshot(store, workspace)
    r = api.post("/api/v1/templates/import", json={"bundle": _with(good, path, value)})
    assert (r.status_code, r.json["error"]["code"]) == (400, "invalid_template"), r.json
    assert r.json["error"]["details"] == [{"field": field}]
    assert snapshot(store, workspace) == before
    assert api.post("/api/v1/templates/import", json={"bundle": good}).status_code == 201


@pytest.mark.parametrize("case", ["webhook_taken", "conflict", "invalid_connection", "invalid_param",
                                  "invalid_document"])
def test_a_refused_import_changes_nothing(api, store, workspace, case):
    """An import refused with 409 used to have stored its connection values already (a base URL overwritten)."""
    api.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "http://erp.before",
                                             "auth": {"type": "bearer", "token": "OLD"}})
    assert api.post("/api/v1/templates/import", json={"template": "returns"}).status_code == 201
    api.put("/api/v1/lookups/sku_xref/rows/hw-custom", json={"value": "HW-CUSTOM"})
    bundle = _with(_returns_bundle(api), ("lookups", "fresh_table"), {"k": "v"})
    args = {"bundle": bundle, "flow_id": "returns-2",
            "connections": {"erp": {"system": "erp", "base_url": "http://erp.after", "auth": {"type": "none"}},
                            "wms": {"system": "wms", "base_url": "http://wms.after"}}}
    if case == "conflict":
        args.pop("flow_id")  # the flow returns exists
    elif case == "invalid_connection":
        args["connections"]["zzz"] = {"system": "erp", "base_url": "ftp://nope"}  # written last, refused
        args["flow_id"], args["bundle"] = "returns-3", _with(bundle, ("flow", "nodes"), [])
    elif case == "invalid_param":
        args["params"] = {"nope": 1}
    elif case == "invalid_document":
        args["flow_id"] = "../returns"
    before = snapshot(store, workspace)
    r = api.post("/api/v1/templates/import", json=args)
    assert r.json["error"]["code"] in (case, "unknown_param"), r.json
    assert r.status_code == (409 if case in ("webhook_taken", "conflict") else 400)
    assert snapshot(store, workspace) == before
    erp = api.get("/api/v1/connections/erp").json
    assert erp["base_url"] == "http://erp.before" and erp["secret_set"] is True
    assert api.get("/api/v1/connections/wms").status_code == 404
    assert api.get("/api/v1/lookups/fresh_table").json["rows"] == {}
    assert [t["id"] for t in api.get("/api/v1/templates").json["templates"] if t["source"] == "imported"] == []


def test_an_accepted_import_writes_flow_lookups_connections_and_gallery_entry_together(api, store, workspace):
    bundle = _with(_with(_returns_bundle(api), ("id",), "returns-custom"), ("lookups", "fresh_table"), {"k": "v"})
    r = api.post("/api/v1/templates/import", json={
        "bundle": bundle, "connections": {"erp": {"system": "erp", "base_url": "http://erp.example"}}})
    assert r.status_code == 201, r.json
    assert r.json["deployed_version"] == 1 and r.json["missing_connections"] == ["oms", "wms"]
    assert sorted(r.json["lookups_added"]) == ["fresh_table", "sku_xref"]
    assert api.get("/api/v1/connections/erp").json["base_url"] == "http://erp.example"
    assert api.get("/api/v1/lookups/fresh_table").json["rows"] == {"k": "v"}
    assert api.get("/api/v1/flows/returns").json["deployed_version"] == 1
    assert api.get("/api/v1/templates/returns-custom").json["id"] == "returns-custom"
    rows = snapshot(store, workspace)
    assert len(rows["templates"]) == 1 and len(rows["webhook_routes"]) == 2 and len(rows["flow_versions"]) == 1


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
    assert bundle["publisher"] == {"name": "Crossdock", "support": {"email": None, "url": None}}
    assert api.get("/api/v1/flows/nope/export").status_code == 404


def test_an_export_goes_out_under_the_partners_brand(api):
    brand = {"product_name": "NorthLink Connect", "support": {"email": "help@northlink.example", "url": None}}
    assert api.put("/api/v1/partner", json={"branding": brand}).status_code == 200
    api.post("/api/v1/templates/import", json={"template": "returns"})
    r = api.get("/api/v1/flows/returns/export")
    assert r.json["publisher"] == {"name": "NorthLink Connect",
                                   "support": {"email": "help@northlink.example", "url": None}}
    # what a customer reads of it names the partner's product (the schema id is a format name, not a brand)
    assert "Crossdock" not in r.get_data(as_text=True)


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


def test_nul_where_the_database_keeps_text_is_a_400_on_both_backends(api):
    """PostgreSQL text refuses NUL (a 500 there); SQLite takes it: both must answer the same 400."""
    r = api.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "http://erp\x00.example"})
    assert (r.status_code, r.json["error"]["details"]) == (400, [{"field": "base_url"}])
    assert api.put("/api/v1/lookups/t", json={"rows": {"a\x00": 1}}).json["error"]["code"] == "invalid_lookup"
    r = api.post("/api/v1/lookups/t/import", data="key,value\na\x00,1\n", content_type="text/csv")
    assert (r.status_code, r.json["error"]["code"]) == (400, "invalid_lookup")
    for url in ("/api/v1/connections/a%00", "/api/v1/lookups/a%00", "/api/v1/templates/a%00",
                "/api/v1/flows/a%00/export", "/api/v1/lookups/t?format=%00"):
        r = api.get(url)
        assert (r.status_code, r.json["error"]["code"]) == (400, "invalid_argument"), url
    assert api.put("/api/v1/lookups/t/rows/a%00", json={"value": 1}).status_code == 400
    for name in ("%0D", "a%22b", "%C3%A9"):  # found by fuzzing: a line break in the CSV filename header was a 500
        r = api.get(f"/api/v1/lookups/{name}?format=csv")
        assert (r.status_code, r.json["error"]["code"]) == (400, "invalid_lookup"), name
    assert api.post("/api/v1/templates/import", json={"template": "a\x00"}).status_code == 404
    assert api.get("/api/v1/connections").json["connections"] == [] and api.get("/api/v1/lookups").json["tables"] == []
    r = api.post("/api/v1/lookups/t/import", json={"key": "value"})  # the CSV import takes CSV
    assert (r.status_code, r.json["error"]["code"]) == (415, "unsupported_media_type")


def test_csv_the_csv_module_cannot_read_is_a_400_and_old_mac_line_endings_are_read(api):
    """Found by tests/web/test_fuzz.py: a bare carriage return in a field was a 500."""
    for csv in ("\r0", 'key,value\na,"' + "x" * 200_000 + '"\n'):
        r = api.post("/api/v1/lookups/t/import", data=csv, content_type="text/csv")
        assert (r.status_code, r.json["error"]["code"]) == (400, "invalid_lookup")
    r = api.post("/api/v1/lookups/t/import", data="key,value\ra,1\rb,2\r", content_type="text/csv")
    assert r.status_code == 201 and api.get("/api/v1/lookups/t").json["rows"] == {"a": "1", "b": "2"}


def test_canonical_records_are_served_as_json_schema_for_the_inspector(api):
    records = api.get("/api/v1/records").json["records"]
    assert [r["$id"] for r in records][:2] == ["crossdock.order/1", "crossdock.inventory_level/1"]
    order = api.get("/api/v1/records/order").json
    assert order["properties"]["ship_to"]["x-business-class"] == "missing_ship_to"
    assert api.get("/api/v1/records/invoice").status_code == 404
