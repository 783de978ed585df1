"""The mapper's API (issue 13): a mapping compiled and read back, expressions beyond the model read-only with a note,
the target schemas, a node's mapping context and the preview of an edited mapping over the flow's saved samples
beside the deployed version's output."""
from __future__ import annotations

import copy

import pytest

COMPILE, PARSE, SCHEMAS = "/api/v1/mappings/compile", "/api/v1/mappings/parse", "/api/v1/schemas"
IMPORT = "/api/v1/templates/import"

MAPPING = {"version": 1,
           "fields": [{"target": "externalDocumentNo", "rule": {"kind": "field", "path": "number"}},
                      {"target": "shipTo.city", "rule": {"kind": "default", "path": "ship_to.city", "value": "?"}}],
           "arrays": [{"target": "lines", "source": "lines",
                       "fields": [{"target": "itemNo", "rule": {"kind": "field", "path": "item_no"}}]}]}


def test_a_mapping_compiles_to_readable_jsonata_that_parses_back_to_it(api):
    r = api.post(COMPILE, json={"mapping": MAPPING})
    assert r.status_code == 200, r.json
    assert r.json["expression"] == ('{\n  "externalDocumentNo": number,\n  "shipTo": {\n'
                                    '    "city": ship_to.city ? ship_to.city : "?"\n  },\n'
                                    '  "lines": [lines.{\n    "itemNo": item_no\n  }]\n}')
    back = api.post(PARSE, json={"expression": r.json["expression"]})
    assert back.status_code == 200 and back.json["editable"] is True
    assert back.json["mapping"] == r.json["mapping"]
    assert back.json["mapping"]["fields"][0] == MAPPING["fields"][0]


def test_a_bad_mapping_is_a_400_naming_the_rule(api):
    bad = copy.deepcopy(MAPPING)
    bad["arrays"][0]["fields"][0]["rule"] = {"kind": "unit", "path": "w", "from": "kg", "to": "m"}
    r = api.post(COMPILE, json={"mapping": bad})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_mapping"
    assert r.json["error"]["details"][0]["field"] == "mapping.arrays[0].fields[0].rule.to"
    assert api.post(COMPILE, json={"mapping": {"fields": "x"}}).status_code == 400
    assert api.post(COMPILE, json=["no"]).status_code == 400


def test_an_expression_beyond_the_model_is_read_only_with_a_note(api):
    for source, note in (("$sum(lines.(qty * price))", "one object"),
                         ('{"a": x[0]}', "beyond what the mapper shows"),
                         ('{"a": /* why */ b}', "comments"),
                         ('{"a": ', "does not compile")):
        r = api.post(PARSE, json={"expression": source})
        assert r.status_code == 200, r.json
        assert r.json["editable"] is False and r.json["mapping"] is None and note in r.json["note"], (source, r.json)
    assert api.post(PARSE, json={"expression": 5}).status_code == 400


def test_schemas_cover_each_system_and_the_canonical_records(api):
    listed = api.get(SCHEMAS).json["schemas"]
    systems = {s["system"] for s in listed}
    assert {"erp", "oms", "wms", "tms", "canonical"} <= systems
    one = api.get(f"{SCHEMAS}/erp.upsert_sales_order.body").json
    assert "externalDocumentNo" in one["schema"]["required"]
    assert api.get(f"{SCHEMAS}/canonical.order").json["schema"]["title"] == "order"
    assert api.get(f"{SCHEMAS}/nope").status_code == 404


def _reply_checker(api):
    """Checks a reply against what /api/v1/openapi.json documents for it (as tests/designer/test_openapi.py does)."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    doc = api.application.test_client().get("/api/v1/openapi.json").json
    registry = Registry().with_resource("urn:api", Resource.from_contents(doc, DRAFT202012))

    def check(response, path: str, method: str = "get") -> None:
        declared = doc["paths"][path][method]["responses"]
        reply = declared.get(str(response.status_code)) or declared[f"{str(response.status_code)[0]}XX"]
        if "$ref" in reply:
            reply = doc["components"]["responses"][reply["$ref"].rsplit("/", 1)[1]]
        schema = reply["content"]["application/json"]["schema"]
        validator = jsonschema.Draft202012Validator({"$ref": "urn:api#" + schema["$ref"][1:]}, registry=registry)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json)]
        assert not errors, f"{method} {path}: {errors}"
    return check


def _order_release(api, samples: int = 5) -> dict:
    """The bundled order release installed, with `samples` saved sample orders (the template's, renumbered)."""
    systems = {name: {"base_url": f"http://{name}.example"} for name in ("erp", "oms", "wms")}  # never called
    r = api.post(IMPORT, json={"template": "order-release", "connections": systems})
    assert r.status_code == 201, r.json
    doc = api.get("/api/v1/flows/order-release").json["flow"]
    base = next(iter(doc["samples"].values()))
    doc["samples"] = {}
    for i in range(samples):
        order = copy.deepcopy(base)
        order.update(id=6001 + i, name=f"#S-{i + 1}")
        order["shipping_address"]["city"] = f"City {i + 1}"
        doc["samples"][f"order-{i + 1}"] = order
    return doc


def test_the_erp_preview_starts_from_the_upstream_output_and_marks_what_differs_from_the_deployed_version(api):
    doc = _order_release(api)
    assert api.put("/api/v1/flows/order-release", json=doc).status_code == 200
    assert api.post("/api/v1/flows/order-release/deploy").status_code == 201
    erp = next(n for n in doc["nodes"] if n["id"] == "erp_order")["config"]["body"]
    check = _reply_checker(api)

    context = api.get("/api/v1/flows/order-release/nodes/erp_order/mapping-context")
    check(context, "/api/v1/flows/{flow_id}/nodes/{node_id}/mapping-context")
    assert context.json["target"]["schema_id"] == "erp.upsert_sales_order.body"
    assert context.json["source"]["schema"]["title"] == "order"  # the conformed canonical order
    inputs = context.json["source"]["samples"]
    assert [s["ship_to"]["city"] for s in inputs] == [f"City {i + 1}" for i in range(5)]
    assert inputs[0]["lines"][0]["item_no"] == "HW-20620-C"  # after the SKU cross-reference

    parsed = api.post(PARSE, json={"expression": erp}).json
    assert parsed["editable"] is True  # the template's ERP body is in the mapper's form
    parsed["mapping"]["fields"].append({"target": "shipTo.contact", "rule": {"kind": "field", "path": "reference"}})
    edited = api.post(COMPILE, json={"mapping": parsed["mapping"]}).json["expression"]
    r = api.post("/api/v1/flows/order-release/nodes/erp_order/preview-samples", json={"expression": edited})
    check(r, "/api/v1/flows/{flow_id}/nodes/{node_id}/preview-samples", "post")
    results = r.json["results"]
    assert [x["sample"] for x in results] == [f"order-{i + 1}" for i in range(5)] and r.json["deployed_version"]
    for i, x in enumerate(results):
        assert x["error"] is None and x["output"]["shipTo"]["contact"] == f"#S-{i + 1}"
        assert x["fields"]["shipTo.city"] == f"City {i + 1}" and x["fields"]["lines[0].itemNo"] == "HW-20620-C"
        assert x["differs"] == ["shipTo.contact"]
        assert x["deployed_output"] == {k: v for k, v in x["output"].items() if k != "shipTo"} | {
            "shipTo": {k: v for k, v in x["output"]["shipTo"].items() if k != "contact"}}
    limited = api.post("/api/v1/flows/order-release/nodes/erp_order/preview-samples",
                       json={"expression": erp, "limit": 2}).json["results"]
    assert len(limited) == 2 and all(x["differs"] == [] for x in limited)


def test_a_sample_that_cannot_reach_the_node_without_a_system_call_says_so(api):
    doc = _order_release(api, samples=1)
    r = api.post("/api/v1/flows/order-release/nodes/wms_order/preview-samples",
                 json={"expression": '{"orderNumber": erp.no}', "document": doc})
    [result] = r.json["results"]
    assert result["error"]["code"] == "upstream_side_effect" and "erp_order" in result["error"]["message"]
    assert result["deployed_output"] is None and result["differs"] == []


@pytest.mark.parametrize("body,field", [
    ({"expression": 1}, "expression"), ({"expression": "x", "limit": 6}, "limit"),
    ({"expression": "x", "limit": True}, "limit"), ({"expression": "x", "field": 3}, "field"),
    ({"expression": "x", "document": []}, "document")])
def test_bad_preview_requests_are_400_naming_the_field(api, body, field):
    _order_release(api, samples=1)
    r = api.post("/api/v1/flows/order-release/nodes/erp_order/preview-samples", json=body)
    assert r.status_code == 400 and r.json["error"]["details"][0]["field"] == field
    assert api.post("/api/v1/flows/order-release/nodes/nope/preview-samples",
                    json={"expression": "x"}).status_code == 404
    assert api.post("/api/v1/flows/nope/nodes/erp_order/preview-samples", json={"expression": "x"}).status_code == 404


def test_validation_flags_an_unmapped_required_field_and_a_constant_of_the_wrong_type(api):
    doc = _order_release(api, samples=1)
    erp = next(n for n in doc["nodes"] if n["id"] == "erp_order")
    erp["config"]["body"] = '{\n  "externalDocumentNo": number,\n  "release": "yes",\n  "lines": [lines.{\n' \
                            '    "itemNo": item_no\n  }]\n}'
    problems = api.post("/api/v1/flows/validate", json=doc).json["problems"]
    mine = sorted((p["code"], p["severity"], p["message"]) for p in problems if p.get("node") == "erp_order")
    assert [(c, s) for c, s, _ in mine] == [("mapping_type_mismatch", "error"),
                                            ("mapping_unmapped_required", "warning"),
                                            ("mapping_unmapped_required", "warning")]
    assert "'release' takes boolean" in mine[0][2]
    assert "'customerNo'" in mine[1][2] and "'quantity'" in mine[2][2]
    assert all(p["field"] == "body" for p in problems if p.get("node") == "erp_order")


def test_the_inspectors_preview_reads_lookup_tables_too(api):
    assert api.put("/api/v1/lookups/uom", json={"rows": {"EA": "PCS"}}).status_code == 200
    source = '{"u": $lookup("uom", uom, "?"), "v": $lookup("uom", "x", "?")}'
    r = api.post("/api/v1/preview/map", json={"expression": source, "input": {"uom": "EA"}})
    assert r.status_code == 200 and r.json["output"] == {"u": "PCS", "v": "?"}


def test_an_unsaved_sample_is_compared_with_the_deployed_versions_output_on_the_same_input(api):
    doc = _order_release(api, samples=1)  # the template's deployed version has the template's one sample only
    doc["samples"]["order-1"]["shipping_address"]["city"] = "Elsewhere"
    erp = next(n for n in doc["nodes"] if n["id"] == "erp_order")["config"]["body"]
    r = api.post("/api/v1/flows/order-release/nodes/erp_order/preview-samples",
                 json={"expression": erp.replace('"county": ship_to.region', '"county": "X"'), "document": doc})
    [result] = r.json["results"]
    assert result["deployed_output"]["shipTo"]["city"] == "Elsewhere"  # the deployed node, on this sample
    assert result["differs"] == ["shipTo.county"]
