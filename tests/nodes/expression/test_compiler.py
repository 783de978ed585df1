"""The compiled engine as the product uses it: engine choice and fallback, guards, error positions,
threads, and the bench mappings giving the interpreter's output."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import nodes.expression as expression
from nodes.expression import ExpressionError
from nodes.expression.interpreter import compile_interpreted

BENCH = Path(__file__).resolve().parents[3] / "bench"
MAPPINGS = [
    ("order_to_erp.jsonata", "sample_order.json"),
    ("mappings/webshop_to_canonical.jsonata", "mappings/webshop_order.json"),
    ("mappings/shipment_to_invoice.jsonata", "mappings/warehouse_shipment.json"),
]
CLOCK_FIELDS = {"CREATED_AT", "exported_at"}  # $now(): differs between two evaluations anyway


def _without_clock(value):
    if isinstance(value, dict):
        return {k: _without_clock(v) for k, v in value.items() if k not in CLOCK_FIELDS}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value


@pytest.mark.parametrize("mapping,document", MAPPINGS, ids=[m for m, _ in MAPPINGS])
def test_bench_mappings_compile_fully_and_match_the_interpreter(mapping, document):
    source = (BENCH / mapping).read_text()
    data = json.loads((BENCH / document).read_text())
    compiled = expression.compile(source)
    assert compiled.engine == "compiled"
    mine = compiled.evaluate(data)
    reference = compile_interpreted(source).evaluate(data)
    # same JSON text: same values, same key order, and whole numbers printed alike
    assert json.dumps(_without_clock(mine)) == json.dumps(_without_clock(reference))


def test_expressions_outside_the_subset_fall_back_to_the_interpreter():
    source = "$exists($now)"  # $now as a value, not called: the compiler only knows calls of it
    expr = expression.compile(source)
    assert (expr.engine, expr.source) == ("interpreter", source)
    assert expr.evaluate(None) is True


def test_parent_operator():
    expr = expression.compile("order.lines[qty > 1].sku.{'sku': $, 'order': %.%.number}")
    assert expr.engine == "compiled"
    data = {"order": {"number": "SO-1", "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]}}
    assert expr.evaluate(data) == {"sku": "A", "order": "SO-1"}


def test_eval_compiles_its_text_and_sees_the_callers_variables():
    expr = expression.compile('($rate := 2; $eval("$rate * a"))')
    assert expr.engine == "compiled"
    assert expr.evaluate({"a": 21}) == 42
    # text outside the compiled subset is handed to the interpreter, variables included
    assert expression.compile('($k := 1; $eval("$exists($now) ? $k"))').evaluate(None) == 1
    with pytest.raises(ExpressionError) as err:
        expression.compile('$eval("[1, #2]")').evaluate(None)
    assert err.value.code == "D3120"


def test_invalid_jsonata_reports_code_and_position():
    with pytest.raises(ExpressionError) as err:
        expression.compile("a.(b")
    assert err.value.code == "S0203"
    assert err.value.position is not None


def test_runtime_errors_carry_the_code_and_the_operator_position():
    expr = expression.compile('order.qty + "a"')
    assert expr.engine == "compiled"
    with pytest.raises(ExpressionError) as err:
        expr.evaluate({"order": {"qty": 1}})
    assert (err.value.code, err.value.position, err.value.line, err.value.column) == ("T2002", 11, 1, 12)


def test_a_runaway_loop_stops_at_the_time_budget():
    expr = expression.compile("($f := function($x){$f($x)}; $f(1))")
    assert expr.engine == "compiled"
    with pytest.raises(ExpressionError) as err:
        expr.evaluate(None, timeout_ms=100)
    assert err.value.code == "budget_time"


def test_a_long_sequence_stops_at_the_time_budget_without_any_lambda():
    expr = expression.compile("[1..1000000].($ * 2)[$ > 3]")
    assert expr.engine == "compiled"
    with pytest.raises(ExpressionError) as err:
        expr.evaluate(None, timeout_ms=50)
    assert err.value.code == "budget_time"


def test_deep_recursion_stops_at_the_depth_limit():
    expr = expression.compile("($f := function($x){1 + $f($x)}; $f(1))")
    with pytest.raises(ExpressionError) as err:
        expr.evaluate(None, max_depth=50)
    assert err.value.code == "budget_depth"
    # the limit counts per evaluation: a shallow call right after still works
    assert expression.compile("($f := function($n){$n = 0 ? 0 : 1 + $f($n - 1)}; $f(10))").evaluate(
        None, max_depth=50) == 10


def test_tail_calls_run_in_constant_depth():
    expr = expression.compile("($count := function($n, $acc){$n = 0 ? $acc : $count($n - 1, $acc + 1)};"
                              " $count(3000, 0))")
    assert expr.evaluate(None, max_depth=50) == 3000


def test_bindings_are_variables_and_may_shadow_built_ins():
    expr = expression.compile("$uppercase(name) & $suffix")
    assert expr.evaluate({"name": "ab"}, {"suffix": "!"}) == "AB!"
    # a binding named like a built-in the compiled code calls directly: the interpreter decides
    for engine in (expr, compile_interpreted("$uppercase(name) & $suffix")):
        with pytest.raises(ExpressionError) as err:
            engine.evaluate({"name": "ab"}, {"suffix": "?", "uppercase": "not a function"})
        assert err.value.code == "T1006"


def test_transform_returns_a_modified_copy():
    expr = expression.compile("$ ~> |lines[qty = 0]|{'status': 'cancelled'}, ['qty']|")
    assert expr.engine == "compiled"
    data = {"lines": [{"sku": "A", "qty": 0}, {"sku": "B", "qty": 2}]}
    assert expr.evaluate(data) == {"lines": [{"sku": "A", "status": "cancelled"}, {"sku": "B", "qty": 2}]}
    assert data["lines"][0] == {"sku": "A", "qty": 0}  # the input is left alone


def test_partial_application():
    expr = expression.compile("($first := $substring(?, 0, ?); $code := $first(?, 3); items.$code(sku))")
    assert expr.engine == "compiled"
    assert expr.evaluate({"items": [{"sku": "ABCDEF"}, {"sku": "XYZ1"}]}) == ["ABC", "XYZ"]


def test_undefined_and_null_results():
    expr = expression.compile("missing")
    assert expr.evaluate({"a": 1}) is None
    assert expression.compile("a").evaluate({"a": None}) is None
    assert expression.compile("[a, missing, 2]").evaluate({"a": None}) == [None, 2]
    assert expression.compile("{'x': missing, 'y': a}").evaluate({"a": None}) == {"y": None}


def test_concurrent_evaluations_do_not_share_state():
    source = (BENCH / "order_to_erp.jsonata").read_text()
    data = json.loads((BENCH / "sample_order.json").read_text())
    expr = expression.compile(source)
    expected = _without_clock(expr.evaluate(data))
    failures = []

    def run():
        for _ in range(20):
            if _without_clock(expr.evaluate(data)) != expected:
                failures.append(1)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_division_by_zero_is_a_jsonata_error():
    # the interpreter leaks ZeroDivisionError (U1000); JSONata-JS would carry Infinity into the output
    with pytest.raises(ExpressionError) as err:
        expression.compile("{'x': a / 0}").evaluate({"a": 1})
    assert err.value.code == "D1001"


def test_remainder_keeps_the_fraction_as_javascript_does():
    # deliberate difference: jsonata-python truncates (5.5 % 2 = 1)
    assert expression.compile("a % 2").evaluate({"a": 5.5}) == 1.5


def test_suite_fixes_where_the_reference_is_wrong():
    assert expression.compile("$string(big_id)").evaluate({"big_id": 5890840712243076}) == "5890840712243076"
    assert expression.compile("-5 ?: 99").evaluate(None) == -5
    assert expression.compile('$number("12")').evaluate(None) == 12
    with pytest.raises(ExpressionError) as err:
        expression.compile('$number("12 pcs")').evaluate(None)
    assert err.value.code == "D3030"


def test_a_transform_that_nests_the_matched_object_in_itself_is_an_error_not_a_circular_result():
    from nodes.expression.compiler import compile_closures

    with pytest.raises(ExpressionError) as err:
        compile_closures('$ ~> |items[0]|{"t": $}|').evaluate({"items": [{"k": 0}]})
    assert err.value.code == "budget_depth"  # what the interpreter reports for the same expression
