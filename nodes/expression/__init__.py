"""JSONata for the whole product: compile once, evaluate with a budget, errors with code and position.

Every JSONata evaluation in Crossdock goes through `compile`; nothing else imports the `jsonata`
library. `Expression.engine` says which engine evaluates it (shown in the inspector).
"""
from __future__ import annotations

from flows.problem import Problem

from nodes.expression.errors import ExpressionError
from nodes.expression.interpreter import Expression, compile_interpreted

__all__ = ["Expression", "ExpressionError", "compile", "check"]


def compile(source: str) -> Expression:
    """Compile `source`; raises ExpressionError (code, message, position, line, column)."""
    return compile_interpreted(source)


def check(source: str) -> Problem | None:
    """The problem with `source`, or None when it compiles. For flows.graph's validate()."""
    try:
        compile(source)
    except ExpressionError as err:
        return err.to_problem()
    return None
