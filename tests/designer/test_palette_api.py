"""The palette API: node types with their config as JSON Schema, and the JSONata mapping preview with its
errors (code, position, line, column) and its time budget."""
from __future__ import annotations

import jsonschema
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from nodes import catalog
from runtime.wiring import Runtime
from runtime.settings import Settings
from support import identity
from web.app import create_app

PREVIEW = "/api/v1/preview/map"
FIRST_SEVEN = ["event.webhook", "event.manual", "connector.http", "transform.map", "branch.choice",
               "branch.filter", "control.respond"]


@pytest.fixture
def api(tmp_path):
    """The palette and the preview read no database and start no run: the embedded backend alone will do."""
    runtime = Runtime(Settings(data_dir=str(tmp_path), load_samples=False))
    yield identity.client_for(create_app(runtime), identity.make_user(runtime, "default", "admin"), "default")
    runtime.close()


def test_node_types_lists_every_type_in_palette_order_with_json_schema_configs(api):
    r = api.get("/api/v1/node-types")
    assert r.status_code == 200
    types = r.json["node_types"]
    assert [t["type"] for t in types] == list(catalog.TYPES)
    listed = [t["type"] for t in types]
    assert [t for t in listed if t in FIRST_SEVEN] == FIRST_SEVEN  # the first seven, in their palette order
    for t in types:
        assert set(t) == {"type", "version", "category", "title", "description", "icon", "inputs", "outputs",
                          "dynamic_outputs", "expressions", "references", "preview", "summary", "config_schema"}, t["type"]
        assert t["version"] == 1 and t["category"] == t["type"].split(".")[0]
        assert all(set(p) == {"name", "label", "record", "optional"} for p in t["inputs"] + t["outputs"])
        jsonschema.Draft202012Validator.check_schema(t["config_schema"])  # a usable JSON Schema
        assert t["config_schema"]["type"] == "object"
    by_type = {t["type"]: t for t in types}
    assert by_type["event.webhook"]["inputs"] == [] and [p["name"] for p in by_type["event.webhook"]["outputs"]] \
        == ["out"]
    assert by_type["branch.choice"]["dynamic_outputs"] == "rules[].port"
    assert by_type["transform.map"]["expressions"] == ["expression"]
    assert by_type["transform.map"]["config_schema"]["required"] == ["expression"]
    assert by_type["transform.map"]["preview"] == "expression" and by_type["branch.filter"]["preview"] is None
    # what a config names outside the node, so the inspector can offer the workspace's connections and tables
    assert by_type["connector.erp"]["references"] == {"connection": "connection", "path": "template",
                                                          "product": "template"}
    assert by_type["transform.lookup"]["references"] == {"table": "lookup"}
    assert by_type["event.webhook"]["references"] == {"path": "webhook"}


def test_a_config_schema_accepts_what_deploy_accepts_and_rejects_what_validate_rejects(api):
    webhook = next(t for t in api.get("/api/v1/node-types").json["node_types"] if t["type"] == "event.webhook")
    schema = jsonschema.Draft202012Validator(webhook["config_schema"])
    assert schema.is_valid({"path": "orders", "respond": "sync", "timeout_s": 5})
    assert not schema.is_valid({"respond": "sync"})  # path is required
    assert not schema.is_valid({"path": "orders", "respond": "later"})
    bad = {"schema": "crossdock.flow/1", "id": "w", "nodes": [
        {"id": "hook", "type": "event.webhook", "config": {"path": "orders", "respond": "later"}}]}
    problems = api.post("/api/v1/flows/validate", json=bad).json["problems"]
    assert ("hook", "respond") in [(p.get("node"), p.get("field")) for p in problems]


def test_preview_returns_the_output_and_the_engine(api):
    r = api.post(PREVIEW, json={"expression": "{'ref': order.number, 'qty': $sum(order.lines.qty)}",
                                   "input": {"order": {"number": "A-1", "lines": [{"qty": 2}, {"qty": 3}]}}})
    assert r.status_code == 200
    assert r.json["output"] == {"ref": "A-1", "qty": 5}
    assert r.json["engine"] in ("compiled", "interpreter")


def test_preview_names_the_engine_that_evaluated_the_mapping(api):
    compiled = api.post("/api/v1/preview/map", json={"expression": "{'n': order.number}", "input": {"order": {"number": 1}}})
    assert compiled.json == {"output": {"n": 1}, "engine": "compiled"}
    # $millis used as a value (not called) is outside the compiled subset: the interpreter evaluates it
    fallback = api.post("/api/v1/preview/map", json={"expression": "($f := $millis; $f() > 0)", "input": {}})
    assert fallback.json == {"output": True, "engine": "interpreter"}


def test_preview_binds_params_and_takes_a_missing_input_as_null(api):
    r = api.post(PREVIEW, json={"expression": "$erp & '/orders/' & id", "input": {"id": "7"},
                                   "params": {"erp": "http://erp"}})
    assert r.status_code == 200 and r.json["output"] == "http://erp/orders/7"
    r = api.post(PREVIEW, json={"expression": "'constant'"})
    assert r.status_code == 200 and r.json["output"] == "constant"
    r = api.post(PREVIEW, json={"expression": "missing.path", "input": {}})
    assert r.status_code == 200 and r.json["output"] is None


def test_a_bad_expression_is_422_mapping_error_with_code_and_position(api):
    r = api.post(PREVIEW, json={"expression": "{\n  'a': x +\n}", "input": {}})
    assert r.status_code == 422
    err = r.json["error"]
    assert err["code"] == "mapping_error"
    [detail] = err["details"]
    assert detail["field"] == "expression" and detail["code"].startswith("S0")
    # jsonata points just past the offending token: here the "}" that ends the expression too early
    assert (detail["position"], detail["line"], detail["column"]) == (14, 3, 2)
    assert detail["message"] == err["message"]


def test_an_evaluation_error_is_422_with_the_jsonata_code(api):
    r = api.post(PREVIEW, json={"expression": "a + 1", "input": {"a": "text"}})
    assert r.status_code == 422
    assert r.json["error"]["details"][0]["code"] == "T2001"


def test_a_runaway_expression_ends_with_an_error(api):
    r = api.post(PREVIEW, json={"expression": "($f := function($x){$f($x+1)}; $f(1))", "input": {}})
    assert r.status_code == 422
    detail = r.json["error"]["details"][0]
    assert detail["field"] == "expression" and detail["code"] in ("budget_time", "budget_depth")


def test_preview_refuses_a_malformed_request_with_400(api):
    for body, field in (({"input": {}}, "expression"), ({"expression": 5}, "expression"), ([1], "expression"),
                        ({"expression": "a", "params": [1]}, "params")):
        r = api.post(PREVIEW, json=body)
        assert r.status_code == 400, body
        assert r.json["error"]["code"] == "invalid_argument" and r.json["error"]["details"] == [{"field": field}]
    r = api.post(PREVIEW, data="{'expression'", content_type="application/json")
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_json"


def test_a_result_that_json_cannot_carry_is_422_not_a_500(api):
    for expression, code in (("function($x){$x}", "result_not_json"), ("$sum", "result_not_json"),
                             ("/ab+c/", "result_not_json"), ("{'match': /x/}", "result_not_json"),
                             ("1/0", "D1001"), ("0/0", "D1001")):
        r = api.post(PREVIEW, json={"expression": expression, "input": {}})
        assert r.status_code == 422, (expression, r.status_code)
        assert r.json["error"]["code"] == "mapping_error"
        assert r.json["error"]["details"][0]["code"] == code, expression


def test_a_deeply_nested_input_previews_or_fails_cleanly(api):
    for depth in (50, 500, 900):
        raw = '{"expression": "$", "input": ' + '{"a":' * depth + "1" + "}" * depth + "}"
        r = api.post(PREVIEW, data=raw, content_type="application/json")
        assert r.status_code in (200, 400, 422), depth
        assert r.is_json


TOKENS = ["a", "b", ".", "[", "]", "{", "}", "(", ")", ",", ":", "'x'", "1", "-2.5", "$", "$$", "$sum(", "$map(",
          "$string(", "$x", ":=", ";", "function($v){", "+", "-", "*", "/", "%", "&", "=", "!=", "<", "and", "or",
          "in", "?", "~>", "..", "#$i", "@$o", "^(", "true", "null", "$keys(", "$lookup(", "$merge(", "$reduce(",
          "$sort(", "$split(", "$join(", "$substring(", "$number(", "$round(", "**", "|", "/re/", "$zip(", "$now()"]


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tokens=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=9),
       data=st.sampled_from([None, {}, [], "s", 3, {"a": 1, "b": [1, 2, {"c": "x"}]}, {"a": [{"b": 1}, {"b": "s"}]}]))
def test_random_expressions_never_give_a_500(api, tokens, data):
    r = api.post(PREVIEW, json={"expression": " ".join(tokens), "input": data})
    assert r.status_code in (200, 422), (" ".join(tokens), r.status_code)
    assert r.is_json
