"""Differential test on generated input: expressions from a JSONata grammar, documents from a JSON
grammar; the compiled engine must give the interpreter's result or the interpreter's error code.

The grammar keeps away from the spots where jsonata-python is known to be wrong (listed in
test_compiler_suite.py): whole numbers stay small, there is no division, `%` sees whole numbers only,
and the left side of `?:` and `??` is a plain path, so any difference found here is a compiler bug.
"""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nodes.expression import ExpressionError
from nodes.expression.compiler import Unsupported, compile_closures
from nodes.expression.interpreter import compile_interpreted

NAMES = ["a", "b", "s", "t", "n", "items", "o", "missing"]
ITEM_NAMES = ["k", "v", "w", "missing"]

scalars = st.one_of(st.integers(-20, 20), st.sampled_from([0.5, 2.25, -1.75, 10.1]),
                    st.sampled_from(["", "ab", "Hello", "x y"]), st.booleans(), st.none())
items = st.fixed_dictionaries({"k": st.integers(-3, 5), "v": st.sampled_from(["p", "q", "r"]),
                               "w": st.lists(st.integers(0, 9), max_size=3)})
documents = st.fixed_dictionaries({
    "a": st.integers(-5, 50), "b": st.sampled_from([1.5, 0.1, 3.0, -2.5]), "s": st.sampled_from(["abc", "Z", ""]),
    "t": st.booleans(), "n": st.none(),
    "items": st.lists(items, max_size=4),
    # no null inside input arrays: jsonata-python takes it for "undefined" when a function iterates it
    "o": st.fixed_dictionaries({"x": st.fixed_dictionaries({"y": scalars}),
                                "list": st.lists(scalars.filter(lambda v: v is not None), max_size=3)}),
})


def _literal(v) -> str:
    return json.dumps(v)


paths = st.one_of(
    st.sampled_from(NAMES),
    st.builds(lambda f: f"items.{f}", st.sampled_from(ITEM_NAMES)),
    st.sampled_from(["o.x.y", "o.list", "items[0]", "items[-1].w", "items.w", "items[k > 1].v",
                     "items[v = 'q'].k", "$", "$$.a", "items^(k).v", "items^(>k, v).k", "items#$p[$p < 2].v",
                     "items@$i.($i.k)", "items.w.%.v", "o.x.y.%.%.list", "o.list[0]", "items.w[1]", "$.items[]", "items[w].k", "*.x", "**.y"]),
)
literals = scalars.map(_literal)
# `a ?? b` and `a ?: b` use `a` twice; jsonata-python processes it twice, which doubles its predicates
# and negates a negative literal back (the compiler copies it first, as JSONata-JS means it)
plain_paths = st.sampled_from(NAMES + ["o.x.y", "o.list", "items.k", "$", "$$.a", "items.w"])

FUNCTIONS_1 = ["$sum", "$count", "$string", "$exists", "$boolean", "$not", "$keys", "$max", "$min",
               "$average", "$abs", "$floor", "$ceil", "$length", "$uppercase", "$lowercase", "$trim",
               "$number", "$type", "$reverse", "$distinct", "$append", "$join", "$round", "$sort", "$spread",
               "$merge"]


def _compound(inner):
    binary = st.builds(lambda l, op, r: f"({l} {op} {r})", inner, st.sampled_from(
        ["+", "-", "*", "=", "!=", "<", "<=", ">", ">=", "and", "or", "&", "in"]), inner)
    return st.one_of(
        binary,
        # `%` on whole numbers only: the reference truncates a fractional remainder (5.5 % 2 = 1)
        st.builds(lambda a, b: f"({a} % {b})", st.sampled_from(["a", "items.k", "7", "-9"]),
                  st.sampled_from(["2", "-3", "a"])),
        st.builds(lambda c, a, b: f"({c} ? {a} : {b})", inner, inner, inner),
        st.builds(lambda a, b: f"({a} ?? {b})", plain_paths, inner),
        st.builds(lambda a, b: f"({a} ?: {b})", plain_paths, inner),
        st.builds(lambda a: f"-({a})", inner),
        st.builds(lambda xs: "[" + ", ".join(xs) + "]", st.lists(inner, max_size=3)),
        st.builds(lambda a, b: f'{{"k1": {a}, "k2": {b}}}', inner, inner),
        st.builds(lambda p, a: f"{p}.{{\"key\": {a}}}", paths, inner),
        st.builds(lambda f, a: f"{f}({a})", st.sampled_from(FUNCTIONS_1), inner),
        st.builds(lambda a, b: f"$substring({a}, {b})", inner, st.integers(-3, 3)),
        st.builds(lambda a, b: f"$join({a}, {b})", inner, literals),
        st.builds(lambda a, b: f"$lookup({a}, {b})", inner, st.sampled_from(['"x"', '"k"', '"a"'])),
        st.builds(lambda a, b: f"$append({a}, {b})", inner, inner),
        st.builds(lambda a, b: f"$round({a}, {b})", inner, st.integers(0, 2)),
        st.builds(lambda a, b: f"$contains({a}, {b})", inner, literals),
        st.builds(lambda a, b: f"($x := {a}; {b})", inner, inner.map(lambda e: e.replace("$", "$x", 0))),
        st.builds(lambda a, b: f"($x := {a}; [$x, {b}])", inner, inner),
        st.builds(lambda p, a: f"$map({p}, function($e, $i) {{ [$e, $i, {a}] }})", paths, inner),
        st.builds(lambda p, a: f"$filter({p}, function($e) {{ {a} }})", paths, inner),
        st.builds(lambda p: f"$reduce({p}, function($acc, $e) {{ $acc + $e }}, 0)", paths),
        st.builds(lambda p, a: f"{p}[{a}]", paths, inner),
        st.builds(lambda p, a: f"{p}.({a})", paths, inner),
        st.builds(lambda a, b: f"{a} ~> $append({b})", inner, inner),
        st.builds(lambda p, a: f'$ ~> |{p}|{{"t": {a}}}, ["v"]|', paths, inner),
        st.builds(lambda a, b: f"$substring(?, {b})({a})", inner, st.integers(-2, 2)),
        st.builds(lambda a, b: f"(function($p, $q){{[$p, $q]}})(?, {b})({a})", inner, inner),
    )


expressions = st.recursive(st.one_of(paths, literals), _compound, max_leaves=6)


def _outcome(compile_fn, source, data):
    try:
        value = compile_fn(source).evaluate(json.loads(json.dumps(data)), timeout_ms=2000)
    except ExpressionError as err:
        return ("code", err.code)
    return ("result", json.dumps(value, sort_keys=False, default=str))


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, documents)
def test_compiled_equals_interpreted_on_generated_expressions(source, data):
    try:
        compile_closures(source)
    except Unsupported:
        return  # the product evaluates it with the interpreter: nothing to compare
    except ExpressionError:
        pass
    interpreted = _outcome(compile_interpreted, source, data)
    if interpreted in (("code", "U1000"), ("code", "Unexpected")):
        return  # jsonata-python crashed with a Python error: it defines no outcome to compare with
    compiled = _outcome(compile_closures, source, data)
    assert compiled == interpreted, f"{source!r} on {json.dumps(data)}"
