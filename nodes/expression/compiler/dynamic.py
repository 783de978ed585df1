"""`$eval(expression, focus?)`: JSONata source built at evaluation time, compiled on the spot and run in
the caller's scope (its variables visible), as jsonata-python's function_eval does."""
from __future__ import annotations

import dataclasses

from nodes.expression import fallback
from nodes.expression.budget import BudgetExceeded

from nodes.expression.compiler.syntax import Unsupported, parse
from nodes.expression.compiler.values import UNDEF, Seq, to_output, to_reference
from nodes.expression.interpreter import compile_interpreted
from nodes.expression.jsonata_internals import JException


def build_eval_call(builtin, args, pos, build_source):
    """`build_source(ast)` compiles a parsed expression into a closure (the Builder, passed in)."""
    def evaluate(x, env):
        values = [a(x, env) for a in args]
        builtin.native.validate([to_reference(v) for v in values], to_reference(x))  # T0410 as the reference
        source = values[0] if values else UNDEF
        if source is UNDEF:
            return UNDEF
        focus = values[1] if len(values) > 1 else UNDEF
        context = x
        if focus is not UNDEF:
            context = focus
            if isinstance(context, list) and not (isinstance(context, Seq)):
                context = Seq((context,))
                context.outer_wrapper = True
        try:
            fn = build_source(parse(source))
        except Unsupported as why:
            fallback.record(fallback.UNSUPPORTED, source, str(why))
            return _interpreted(source, context, env)
        except Exception:
            raise JException("D3120", pos) from None
        try:
            return fn(context, env)
        except JException as err:
            if err.error in ("D1011", "D1012") or isinstance(err, BudgetExceeded):
                raise  # the guards of the whole evaluation, not an error of the evaluated text
            raise JException("D3121", pos, str(err)) from None
        except Exception as err:
            raise JException("D3121", pos, str(err)) from None
    return evaluate


def _interpreted(source, context, env):
    """Text outside the compiled subset: the interpreter, given the visible variables as bindings."""
    scopes = []
    f = env
    while f is not None:
        scopes.append(f.vars)
        f = f.parent
    bindings = {}
    for scope in reversed(scopes):
        bindings.update({k: to_output(v) for k, v in scope.items() if k != "$"})
    meter = env.state.meter  # the text runs on what is left of the caller's budget
    left = dataclasses.replace(meter.budget, time_ms=max(int(meter.remaining_s() * 1000), 1))
    return compile_interpreted(source).evaluate(to_output(context), bindings, budget=left)
