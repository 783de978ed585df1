"""The mapper's API (issue 13): a mapping compiled and read back, expressions beyond the model read-only with a note,
the target schemas, a node's mapping context and the preview of an edited mapping over the flow's saved samples
beside the deployed version's output."""
from __future__ import annotations

import copy

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
