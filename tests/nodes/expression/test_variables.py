"""nodes.expression.variables: the $names an expression reads and does not bind, which the flow must declare."""
from __future__ import annotations

import pytest

from nodes.expression.variables import free_variables


@pytest.mark.parametrize("source, free", [
    ("$ship_method = 'GROUND' ? a : b", {"ship_method"}),
    ("a ? $then_name : $else_name", {"then_name", "else_name"}),  # the else branch too (the walk once skipped it)
    ("$sum(lines.qty) & $string($count(x)) & $now()", set()),  # the function library is bound
    ("($addr := shipping_address; $addr.city & $zone)", {"zone"}),  # bound by := in the expression
    ("function($a, $b){ $a + $b + $c }(1, 2)", {"c"}),  # lambda parameters
    ("orders@$o.lines#$i.{'o': $o.id, 'i': $i, 'k': $key}", {"key"}),  # focus and index bindings
    ("$.a & $$.b & $", set()),  # the context and the root input are not variables
    ("'$not_a_variable' & \"$nor_this\"", set()),  # text inside strings
    ("/* $commented */ a", set()),
    ("$run.id & $run.node", {"run"}),  # the runtime binds it; flows.references knows, this module does not
    ("order.(lines", set()),  # does not parse: the syntax check reports it, not this one
])
def test_free_variables(source, free):
    assert free_variables(source) == free


def test_declared_names_are_left_out_and_a_source_with_nothing_else_is_not_parsed():
    assert free_variables("$ship_method & $partial", frozenset({"ship_method"})) == {"partial"}
    assert free_variables("$ship_method & $sum(a)", frozenset({"ship_method"})) == frozenset()
