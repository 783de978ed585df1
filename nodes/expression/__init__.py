"""JSONata for the whole product: compile once, evaluate with a budget, errors with code and position.

Every JSONata evaluation in Crossdock goes through `compile`; nothing else imports the `jsonata`
library. Expressions are compiled to Python closures (nodes/expression/compiler) when they stay inside
the compiled subset, else evaluated by jsonata-python; `Expression.engine` says which ("compiled" or
"interpreter"), and the inspector shows it.
"""
from __future__ import annotations

import functools

from flows.problem import Problem

from nodes.expression.compiler import CompiledExpression, Unsupported, compile_closures
from nodes.expression.errors import ExpressionError
from nodes.expression.interpreter import Expression as InterpretedExpression
from nodes.expression.interpreter import compile_interpreted

Expression = CompiledExpression | InterpretedExpression

__all__ = ["CompiledExpression", "Expression", "ExpressionError", "InterpretedExpression", "compile",
           "check"]


def compile(source: str) -> Expression:
    """Compile `source`; raises ExpressionError (code, message, position, line, column)."""
    try:
        return compile_closures(source)
    except Unsupported:
        return compile_interpreted(source)
    except ExpressionError:
        # invalid JSONata: the interpreter's compile gives the authoritative error
        return compile_interpreted(source)


@functools.lru_cache(maxsize=16384)
def check(source: str) -> Problem | None:
    """The problem with `source`, or None when it compiles. For flows.graph's validate().

    Cached by text: the canvas validates the whole document on every edit, and a large flow holds
    hundreds of expressions of which one changed."""
    try:
        compile(source)
    except ExpressionError as err:
        return err.to_problem()
    return None
