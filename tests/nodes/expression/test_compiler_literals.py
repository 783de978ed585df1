"""Compiled operators and $round with a literal operand (converted at compile time) give what the same
expression gives with that operand in a variable (the general closures)."""
from __future__ import annotations

import json
import random

import pytest

from nodes.expression import ExpressionError
from nodes.expression.compiler import compile_closures

OPERANDS = [7, 2.5, -0.1, 0, 0.1, 1e308, -1e308, 62.34, 2 ** 53 + 1, -(10 ** 400), "3", True, None, [1], [], {"a": 1}, "missing"]


def _outcome(source, data):
    try:
        return ("result", json.dumps(compile_closures(source).evaluate(data)))
    except ExpressionError as err:
        return ("code", err.code)


def _data(x):
    return {} if x == "missing" else {"x": x}


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "%"])
@pytest.mark.parametrize("literal", ["1", "10", "100", "0.5", "0", "3.25", "1e300"])
def test_a_number_literal_on_either_side_computes_as_a_variable_does(op, literal):
    for x in OPERANDS:
        data = _data(x)
        assert _outcome(f"x {op} {literal}", data) == _outcome(f"($k := {literal}; x {op} $k)", data), (x, op)
        assert _outcome(f"{literal} {op} x", data) == _outcome(f"($k := {literal}; $k {op} x)", data), (x, op)


def test_literal_operands_inside_a_mapping_line():
    source = '{"n": ($i + 1) * 10, "net": $round(price * (1 - pct / 100), 2)}'
    bound = '($one := 1; $ten := 10; $h := 100; $two := 2; {"n": ($i + $one) * $ten, ' \
            '"net": $round(price * ($one - pct / $h), $two)})'
    data = {"price": 62.34, "pct": 10}
    assert compile_closures(source).evaluate(data, {"i": 3}) == compile_closures(bound).evaluate(data, {"i": 3})


@pytest.mark.parametrize("places", [0, 1, 2, 3, 15, 16, 20, -1, -2])
def test_round_with_literal_places_rounds_as_with_places_in_a_variable(places):
    rnd = random.Random(places)
    values = [2.675, 1.005, 0.125, -2.5, 0.5, -0.001, 999999999999.5, 1e15 + 0.5, 1e300, 12, -7, 2 ** 60,
              "1.5", None, True, [1.25], "missing"]
    values += [rnd.randrange(1, 1000) * rnd.randrange(1, 100_000) / 100 * (1 - rnd.randrange(0, 50) / 100)
               for _ in range(300)]
    values += [rnd.uniform(-1, 1) * 10 ** rnd.randrange(-8, 14) for _ in range(300)]
    literal = compile_closures(f"$round(x, {places})")
    variable = compile_closures(f"($p := {places}; $round(x, $p))")
    for x in values:
        data = _data(x)
        try:
            expected = ("result", json.dumps(variable.evaluate(data)))
        except ExpressionError as err:
            expected = ("code", err.code)
        try:
            got = ("result", json.dumps(literal.evaluate(data)))
        except ExpressionError as err:
            got = ("code", err.code)
        assert got == expected, x


@pytest.mark.parametrize("start", [0, 1, 3, 7, 40, -1, -3, -40])
@pytest.mark.parametrize("length", [-2, 0, 1, 2, 5, 30, 100])
def test_substring_with_literal_bounds_cuts_as_the_reference(start, length):
    from nodes.expression.jsonata_internals import reference_substring

    literal = compile_closures(f"$substring(x, {start}, {length})")
    variable = compile_closures(f"($s := {start}; $l := {length}; $substring(x, $s, $l))")
    for x in ["", "abc", "flange lock flange galvanized plated", "héllo wörld", "a😀b😀c", "missing", 5, None]:
        data = _data(x)
        got, expected = _outcome_of(literal, data), _outcome_of(variable, data)
        assert got == expected, x
        if type(x) is str and x != "missing":
            assert got == ("result", json.dumps(reference_substring(x, start, length))), x


def _outcome_of(expr, data):
    try:
        return ("result", json.dumps(expr.evaluate(data)))
    except ExpressionError as err:
        return ("code", err.code)
