"""A lambda whose body is a block binds that block's variables in the frame made for each call (no
second frame per call): what the body sees, and what its closures capture, is what the interpreter gives."""
from __future__ import annotations

import pytest

from nodes.expression.compiler import compile_closures
from nodes.expression.interpreter import compile_interpreted

CASES = [
    "$map([1, 2], function($l){( $l := $l * 10; $l )})",
    "$map([1, 2], function($v){( $f := function(){ $v + $w }; $w := 100; $f() )})",
    "$map([1, 2], function($v, $i){( $x := $v + $i; {'x': $x, 'v': $v} )})",
    "(function($v){( $x := 1; [10, 20] )[$x = 1]})(0)",
    "($x := 'outer'; (function($v){( $x := 'inner'; $v )})(1) & $x)",
    "($f := function($n){( $m := $n - 1; $n <= 0 ? 0 : $n + $f($m) )}; $f(10))",
    "($add := function($a, $b){( $s := $a + $b; $s )}; $inc := $add(1, ?); [$inc(1), $inc(5)])",
    "($fs := $map([1, 2, 3], function($v){( $d := $v * 2; function(){ $d } )}); $map($fs, function($g){ $g() }))",
    "$filter([1, 2, 3, 4], function($v){( $odd := $v % 2 = 1; $odd )})",
    "$reduce([1, 2, 3], function($acc, $v){( $t := $acc + $v; $t )}, 0)",
    "$map([1, 2], function($v){( $eval('$v := 7'); $v )})",
]


@pytest.mark.parametrize("source", CASES)
def test_lambda_body_blocks_scope_as_the_interpreter_does(source):
    assert compile_closures(source).evaluate({}) == compile_interpreted(source).evaluate({})
