from nodes.base import NodeError, bindings, compile_field, evaluate_field

import pytest


def test_bindings_expose_params_and_run(ctx):
    ctx.attempt = 2
    b = bindings(ctx)
    assert b["erp_url"] == "http://erp.example"
    assert b["run"] == {"id": "run-1", "flow": "order-release", "node": "node-1", "attempt": 2}


def test_run_binding_wins_over_a_param_of_that_name(ctx):
    ctx.params = {"run": "mine"}
    assert bindings(ctx)["run"]["id"] == "run-1"


def test_compile_field_names_the_field_and_position():
    with pytest.raises(NodeError) as err:
        compile_field("total >", "rules[2].when")
    assert err.value.code == "expression_invalid"
    assert err.value.field == "rules[2].when"
    assert err.value.details["code"].startswith("S0")
    assert err.value.details["position"] >= 6


def test_evaluate_field_binds_params_and_turns_errors_into_business_errors(ctx):
    assert evaluate_field(compile_field("total > $threshold", "when"), {"total": 1500}, ctx, "when") is True
    with pytest.raises(NodeError) as err:
        evaluate_field(compile_field('"a" + 1', "when"), {}, ctx, "when")
    assert (err.value.code, err.value.error_class, err.value.retryable) == ("expression_error", "business", False)
    assert err.value.details["code"] == "T2001"
