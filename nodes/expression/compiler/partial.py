"""Partial application `$f(?, 2)`: a new function of the `?` arguments, the others fixed now.

Mirrors jsonata-python: a lambda keeps its body with the fixed parameters bound in a new scope (its
signature is dropped); a built-in becomes a function of `$a, $b, ...` (no more than the built-in
takes) that calls it in tail position.
"""
from __future__ import annotations

from nodes.expression.compiler.runtime import Frame, Lambda, TailCall
from nodes.expression.compiler.values import UNDEF
from nodes.expression.jsonata_internals import JException, JFunction

_HOLE = object()


def build_partial(node, build):
    args = [None if _is_hole(a) else build(a) for a in node.arguments]
    proc = build(node.procedure)
    pos = node.position
    is_path = node.procedure.type == "path"
    name = node.procedure.steps[0].value if is_path else node.procedure.value

    def partial(x, env):
        values = [_HOLE if a is None else a(x, env) for a in args]
        fn = proc(x, env)
        if fn is not UNDEF and is_path and env.lookup(str(name)) is not UNDEF:
            raise JException("T1007", pos, name)
        if type(fn) is Lambda:
            return _partial_lambda(fn, values)
        if isinstance(fn, JFunction):
            return _partial_builtin(fn, values, env, pos)
        raise JException("T1008", pos, name)
    return partial


def _is_hole(arg) -> bool:
    return arg.type == "operator" and arg.value == "?"


def _partial_lambda(fn: Lambda, values) -> Lambda:
    scope = {}
    unbound = []
    for i, param in enumerate(fn.params):
        value = values[i] if i < len(values) else UNDEF
        if value is _HOLE:
            unbound.append(param)
        else:
            scope[param] = value
    return Lambda(fn.body, unbound, None, Frame(fn.env, fn.env.state, scope), fn.ctx, fn.position)


def _partial_builtin(fn, values, env, pos) -> Lambda:
    count = min(len(values), fn.get_number_of_args())
    names = [chr(ord("a") + i) for i in range(count)]

    def body(x, scope):
        return TailCall(fn, [scope.lookup(n) for n in names], pos)
    return _partial_lambda(Lambda(body, names, None, env, UNDEF, pos), values[:count])
