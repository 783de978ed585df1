"""transform.set: one field set by path to a JSONata value, the rest of the message unchanged and the received
message never mutated; a path through a non-object and a non-object message are errors naming the path."""
import copy

import marshmallow
import pytest

from nodes import catalog, transform_set
from nodes.base import NodeError


def prepared(config, env):
    return transform_set.prepare(catalog.load_config(transform_set.SPEC, config), env)


def test_sets_a_top_level_field_from_the_message_and_the_flow_params(ctx, env):
    p = prepared({"path": "priority", "value": "total >= $threshold ? 'high' : 'normal'"}, env)
    order = {"number": "4711", "total": 1200}
    assert list(transform_set.run(p, order, ctx)) == [("out", {"number": "4711", "total": 1200, "priority": "high"})]
    assert list(transform_set.run(p, {"total": 5}, ctx)) == [("out", {"total": 5, "priority": "normal"})]


def test_sets_a_nested_field_creating_missing_objects_and_keeping_their_siblings(ctx, env):
    p = prepared({"path": "erp.release.note", "value": "'ERP ' & erp.no"}, env)
    message = {"erp": {"no": "SO101001", "lines": [1, 2]}, "number": "4711"}
    [(port, out)] = transform_set.run(p, message, ctx)
    assert port == "out"
    assert out == {"erp": {"no": "SO101001", "lines": [1, 2], "release": {"note": "ERP SO101001"}}, "number": "4711"}


def test_the_received_message_is_never_changed(ctx, env):
    p = prepared({"path": "erp.status", "value": "'Released'"}, env)
    message = {"erp": {"status": "Open", "no": "SO1"}, "lines": [{"sku": "A"}]}
    before = copy.deepcopy(message)
    [(_, out)] = transform_set.run(p, message, ctx)
    assert message == before and out["erp"] == {"status": "Released", "no": "SO1"}
    assert out["lines"] is message["lines"]  # off the path nothing is copied


def test_overwrites_an_existing_value_and_sets_null_for_no_result(ctx, env):
    p = prepared({"path": "carrier", "value": "ship_method"}, env)
    assert list(transform_set.run(p, {"carrier": "UPSN", "ship_method": "FDEG"}, ctx)) == [
        ("out", {"carrier": "FDEG", "ship_method": "FDEG"})]
    assert list(transform_set.run(p, {"carrier": "UPSN"}, ctx)) == [("out", {"carrier": None})]


def test_a_null_object_on_the_path_is_replaced_by_an_object(ctx, env):
    p = prepared({"path": "shipping.carrier", "value": "'UPSN'"}, env)
    assert list(transform_set.run(p, {"shipping": None}, ctx)) == [("out", {"shipping": {"carrier": "UPSN"}})]


@pytest.mark.parametrize("message, where, kind", [
    ({"erp": "SO1"}, "erp", "a text"), ({"erp": {"release": [1]}}, "erp.release", "a list"),
    ({"erp": 5}, "erp", "a number"),
])
def test_a_path_through_a_value_that_is_not_an_object_is_an_error_naming_it(ctx, env, message, where, kind):
    p = prepared({"path": "erp.release.note", "value": "'x'"}, env)
    with pytest.raises(NodeError) as err:
        list(transform_set.run(p, message, ctx))
    assert (err.value.code, err.value.field) == ("path_blocked", "path")
    assert err.value.message == f"{where} is {kind}, not an object"


@pytest.mark.parametrize("message", [[{"a": 1}], "text", 3, None])
def test_a_message_that_is_not_an_object_is_an_error(ctx, env, message):
    p = prepared({"path": "a", "value": "1"}, env)
    with pytest.raises(NodeError) as err:
        list(transform_set.run(p, message, ctx))
    assert (err.value.code, err.value.field, err.value.retryable) == ("not_an_object", "path", False)


def test_a_failing_value_is_an_error_with_the_jsonata_code(ctx, env):
    p = prepared({"path": "total", "value": "total + 'x'"}, env)
    with pytest.raises(NodeError) as err:
        list(transform_set.run(p, {"total": 1}, ctx))
    assert err.value.field == "value" and err.value.details["code"] == "T2002"


def test_a_value_that_does_not_compile_fails_prepare_naming_the_field(env):
    with pytest.raises(NodeError) as err:
        prepared({"path": "a", "value": "total +"}, env)
    assert err.value.field == "value" and err.value.code == "expression_invalid"


@pytest.mark.parametrize("config", [
    {}, {"path": "a"}, {"value": "1"}, {"path": "", "value": "1"}, {"path": "a", "value": ""},
    {"path": "a b", "value": "1"}, {"path": "a..b", "value": "1"}, {"path": "lines[0].qty", "value": "1"},
    {"path": ".a", "value": "1"}, {"path": "a.", "value": "1"}, {"path": ".".join(["a"] * 21), "value": "1"},
    {"path": "a" * 201, "value": "1"}, {"path": "a", "value": "1", "extra": True}, {"path": 5, "value": "1"},
])
def test_bad_config_is_rejected(config):
    with pytest.raises(marshmallow.ValidationError):
        catalog.load_config(transform_set.SPEC, config)


def test_is_a_transform_in_the_palette_with_its_summary_and_an_error_port():
    described = catalog.describe(catalog.specs()["transform.set"])
    assert described["category"] == "transform" and described["expressions"] == ["value"]
    assert [p["name"] for p in described["inputs"]] == ["in"]
    assert [p["name"] for p in described["outputs"]] == ["out", "error"]
    assert described["summary"] == "{{path}} = {{value}}"
    assert described["config_schema"]["properties"]["value"]["format"] == "jsonata"
    assert set(described["config_schema"]["required"]) == {"path", "value"}
