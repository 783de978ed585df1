from concurrent.futures import ThreadPoolExecutor

import marshmallow
import pytest

from nodes import catalog, transform_map
from nodes.base import BUSINESS, NodeError

DESIGN_EXAMPLE = "{ 'SalesOrder': order.number, 'Lines': order.lines.{ 'Item': sku, 'Qty': qty } }"


def prepared(config, env):
    return transform_map.prepare(catalog.load_config(transform_map.SPEC, config), env)


def test_design_example_maps_an_order(ctx, env):
    message = {"order": {"number": "SO-1", "lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}}
    out = list(transform_map.run(prepared({"expression": DESIGN_EXAMPLE}, env), message, ctx))
    assert out == [("out", {"SalesOrder": "SO-1", "Lines": [{"Item": "A", "Qty": 1}, {"Item": "B", "Qty": 2}]})]


def test_params_and_run_are_bound(ctx, env):
    p = prepared({"expression": "{'url': $erp_url, 'attempt': $run.attempt, 'flow': $run.flow}"}, env)
    assert list(transform_map.run(p, {}, ctx)) == [
        ("out", {"url": "http://erp.example", "attempt": 1, "flow": "order-release"})]


def test_empty_result_is_null_by_default(ctx, env):
    assert list(transform_map.run(prepared({"expression": "missing.field"}, env), {}, ctx)) == [("out", None)]


def test_empty_result_is_an_error_when_not_allowed(ctx, env):
    p = prepared({"expression": "missing.field", "allow_empty": False}, env)
    with pytest.raises(NodeError) as err:
        list(transform_map.run(p, {}, ctx))
    assert (err.value.code, err.value.error_class, err.value.field) == ("mapping_empty", BUSINESS, "expression")


def test_evaluation_error_is_a_mapping_error_with_jsonata_code_and_position(ctx, env):
    p = prepared({"expression": "$sum(order.number)"}, env)
    with pytest.raises(NodeError) as err:
        list(transform_map.run(p, {"order": {"number": "SO-1"}}, ctx))
    e = err.value
    assert (e.code, e.error_class, e.retryable, e.field) == ("mapping_error", BUSINESS, False, "expression")
    assert e.details["code"] == "T0412"
    assert e.details["position"] == 5 and e.details["line"] == 1
    assert e.to_dict()["details"]["code"] == "T0412"


def test_python_level_failure_inside_jsonata_is_a_mapping_error(ctx, env):
    p = prepared({"expression": "$number(qty)"}, env)
    with pytest.raises(NodeError) as err:
        list(transform_map.run(p, {"qty": "abc"}, ctx))
    assert err.value.code == "mapping_error"


def test_expression_that_does_not_compile_fails_prepare_with_position(env):
    with pytest.raises(NodeError) as err:
        prepared({"expression": "{ 'a': order.number"}, env)
    assert err.value.code == "mapping_error"
    assert err.value.details["code"].startswith("S0")
    assert err.value.details["position"] is not None


@pytest.mark.parametrize("config", [{}, {"expression": 5}, {"expression": ""}, {"expression": "a", "allow_empty": "maybe"},
                                    {"expression": "a", "lookup": {}}])
def test_bad_config_is_rejected(config):
    with pytest.raises(marshmallow.ValidationError):
        catalog.load_config(transform_map.SPEC, config)


def test_spec_ports_and_expressions():
    assert [p.name for p in transform_map.SPEC.inputs] == ["in"]
    assert [p.name for p in transform_map.SPEC.outputs] == ["out", "error"]
    assert transform_map.SPEC.expressions == ("expression",)


def test_one_prepared_mapping_is_safe_across_threads(env, make_ctx):
    p = prepared({"expression": "{'n': n, 'root': $$.n, 'run': $run.id, 'sum': $sum(lines.qty)}"}, env)

    def one(i):
        ctx = make_ctx(run_id=f"run-{i}")
        [(_, out)] = transform_map.run(p, {"n": i, "lines": [{"qty": i}, {"qty": 1}]}, ctx)
        return out == {"n": i, "root": i, "run": f"run-{i}", "sum": i + 1}

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(one, range(800)))
