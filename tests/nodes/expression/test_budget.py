"""Budgets of one evaluation (time, output, depth) and the JSON-only result, in both engines alike."""
from __future__ import annotations

import threading
import time

import pytest

from nodes.expression import ExpressionError, budget
from nodes.expression.budget import Budget
from nodes.expression.compiler import compile_closures
from nodes.expression.interpreter import compile_interpreted

ENGINES = {"compiled": compile_closures, "interpreter": compile_interpreted}
SMALL = Budget(time_ms=300, depth=150, output_bytes=5_000, items=1_000)


@pytest.fixture(params=sorted(ENGINES))
def engine(request):
    return ENGINES[request.param]


def failure(engine, source, data=None, limits=SMALL) -> ExpressionError:
    with pytest.raises(ExpressionError) as err:
        engine(source).evaluate(data, {}, budget=limits)
    return err.value


# the four hostile expressions of issue 9, at the product's default budget
def test_a_huge_range_fails_with_the_output_budget_before_building_it(engine):
    started = time.monotonic()
    err = failure(engine, "[1..9999999]", limits=None)
    assert err.code == "budget_output" and "9,999,999 items" in err.message
    assert time.monotonic() - started < budget.default().time_ms / 1000  # it never built the range


def test_pad_fails_with_the_output_budget_instead_of_answering_100_mb(engine):
    err = failure(engine, '$pad("", 100000000, "x")', limits=None)
    assert err.code == "budget_output" and "$pad" in err.message


def test_endless_recursion_fails_with_the_time_budget(engine):
    err = failure(engine, "($f := function($x){$f($x)}; $f(1))")
    assert err.code == "budget_time" and "300 ms" in err.message


def test_deep_recursion_fails_with_the_depth_budget(engine):
    err = failure(engine, "($f := function($x){1 + $f($x)}; $f(1))")
    assert err.code == "budget_depth" and "150" in err.message


def test_the_budget_is_per_evaluation(engine):
    expr = engine("($f := function($n){$n = 0 ? 0 : 1 + $f($n - 1)}; $f(10))")
    for _ in range(3):
        assert expr.evaluate(None, {}, budget=SMALL) == 10


@pytest.mark.parametrize("source", [
    "[1..999]",  # within items, over the 5,000 bytes of output
    '[1..800].{"n": $, "s": "some text here"}',
    '$string([1..990])',
    '$join([1..990].$string(), "----------")',
    '"x" & $pad("", 4000, "y") & $pad("", 4000, "z")',
    '$replace($pad("", 4000, "x"), "x", "yy")',
    '$replace($pad("", 4000, "x"), /x/, "yy")',
    '$append([1..600], [1..600])',
    '$reduce([1..20], function($a, $i){$a & $a}, "xy")',
])
def test_values_over_the_output_budget_fail_naming_it(engine, source):
    assert failure(engine, source).code == "budget_output"


@pytest.mark.parametrize("use", ["$x", '$x & ""', "$string($x)", '$join([$string($x)])'])
def test_shared_references_cannot_make_the_output_check_explode(engine, use):
    # 2^40 leaves when printed, a few dozen objects in memory: every check stops at the budget
    source = '($x := $reduce([1..40], function($acc, $i){{"a": $acc, "b": $acc}}, {"leaf": 1}); %s)' % use
    started = time.monotonic()
    assert failure(engine, source).code == "budget_output"
    assert time.monotonic() - started < 5


def test_values_within_the_budgets_evaluate(engine):
    assert engine("[1..1000] ~> $count()").evaluate(None, {}, budget=SMALL) == 1000
    assert engine('$length($pad("", 5000, "x"))').evaluate(None, {}, budget=SMALL) == 5000
    assert engine('$replace("a-b-c", "-", "+")').evaluate(None, {}, budget=SMALL) == "a+b+c"


@pytest.mark.parametrize("source", ["function($x){$x}", "$sum", "/ab+c/", "{'f': function(){1}}",
                                    "[1, $uppercase]"])
def test_a_result_that_is_not_json_fails_instead_of_storing_a_python_repr(engine, source):
    err = failure(engine, source)
    assert err.code == "result_not_json" and "function or a regex" in err.message


def test_nan_and_infinity_are_not_json_either(engine):
    assert failure(engine, "[$number('1e308') * 10]").code == "D1001"  # arithmetic: JSONata's own error
    expected = "D1001" if engine is compile_closures else "U1000"  # the interpreter leaks ZeroDivisionError
    assert failure(engine, "{'x': 0/0}").code == expected
    for value in (float("nan"), float("inf"), -float("inf")):  # reaching the result from the input
        err = failure(engine, "{'copy': x}", {"x": value})
        assert err.code == "result_not_json" and "NaN or Infinity" in err.message


def test_timeout_ms_and_max_depth_still_override_the_default():
    with pytest.raises(ExpressionError) as err:
        compile_closures("($f := function($x){$f($x)}; $f(1))").evaluate(None, timeout_ms=50)
    assert err.value.code == "budget_time"


def test_configure_sets_the_process_default():
    previous = budget.default()
    try:
        budget.configure(Budget(items=10))
        with pytest.raises(ExpressionError) as err:
            compile_closures("[1..11]").evaluate(None)
        assert err.value.code == "budget_output"
    finally:
        budget.configure(previous)
    assert compile_closures("[1..11] ~> $count()").evaluate(None) == 11


def test_a_breach_inside_and_or_is_still_reported_as_the_budget():
    # jsonata-python turns any non-JSONata error inside `and`/`or` into "Unexpected"
    err = failure(compile_interpreted, '$string([1..990]) = "" or true')
    assert err.code == "budget_output"


def test_eval_runs_on_what_is_left_of_the_callers_budget(engine):
    err = failure(engine, '$eval("($f := function($x){$f($x)}; $f(1))")')
    assert err.code == "budget_time"


def test_a_runaway_evaluation_leaves_other_threads_running(engine):
    """The time-budget case on one thread; another thread keeps evaluating meanwhile."""
    done = threading.Event()
    results = []

    def hostile():
        try:
            engine("($f := function($x){$f($x)}; $f(1))").evaluate(None, {}, budget=Budget(time_ms=1000))
        except ExpressionError as err:
            results.append(err.code)
        done.set()

    thread = threading.Thread(target=hostile)
    thread.start()
    steady = engine("$sum(items.qty)")
    answered = 0
    while not done.is_set():
        assert steady.evaluate({"items": [{"qty": 1}, {"qty": 2}]}) == 3
        answered += 1
        time.sleep(0.01)
    thread.join()
    assert results == ["budget_time"] and answered >= 5
