"""A member step over a sequence (`items.key`) flattens arrays and keeps other values as the interpreter does."""
from __future__ import annotations

import pytest

from nodes.expression.compiler import compile_closures
from nodes.expression.interpreter import compile_interpreted

DOC = {"items": [{"k": 1, "w": [1, 2], "o": {"z": 1}}, {"k": 2, "w": [], "o": [{"z": 2}, {"z": 3}]},
                 {"k": 3, "w": [[4, 5], 6]}, {"w": 7}],
       "one": [{"w": [8, 9]}], "lines": [{"d": [{"t": "p", "v": 10}, {"t": "a", "v": 2}]}]}


@pytest.mark.parametrize("source", [
    "items.k", "items.w", "items.o", "items.o.z", "one.w", "one.w[0]", "items.w[0]", "items[k > 1].w",
    "lines.d[t = 'p'].v", "$sum([0, lines.d[t = 'a'].v])", "items.missing", "[items.k]", "items.k[]",
])
def test_member_steps_gather_as_the_interpreter_does(source):
    assert compile_closures(source).evaluate(DOC) == compile_interpreted(source).evaluate(DOC)
