"""JSONata for the whole product: compile once, evaluate with a budget, errors with code and position.

Every JSONata evaluation in Crossdock goes through `compile`; nothing else imports the `jsonata`
library. Expressions are compiled to Python closures (nodes/expression/compiler) when they stay inside
the compiled subset, else evaluated by jsonata-python; `Expression.engine` says which ("compiled" or
"interpreter"), and the inspector shows it. Every fallback to the interpreter is logged and counted
(`fallbacks()`, by reason: fallback.py).
"""
from __future__ import annotations

import functools

from flows.problem import Problem

from nodes.expression import fallback
from nodes.expression.compiler import CompiledExpression, CompilerError, Unsupported, compile_closures
from nodes.expression.errors import ExpressionError
from nodes.expression.interpreter import Expression as InterpretedExpression
from nodes.expression.interpreter import compile_interpreted

Expression = CompiledExpression | InterpretedExpression

__all__ = ["CompiledExpression", "Expression", "ExpressionError", "InterpretedExpression", "compile",
           "check", "fallbacks"]


def compile(source: str) -> Expression:
    """Compile `source`; raises ExpressionError (code, message, position, line, column)."""
    try:
        return compile_closures(source)
    except Unsupported as why:
        interpreted = compile_interpreted(source)
        fallback.record(fallback.UNSUPPORTED, source, str(why))
    except CompilerError as err:
        interpreted = compile_interpreted(source)
        fallback.record(fallback.COMPILER_ERROR, source, err.__cause__ or err)
    except ExpressionError as err:
        # invalid JSONata: the interpreter's compile gives the authoritative error; were it to accept
        # the expression, the compiler's parse is at fault
        interpreted = compile_interpreted(source)
        fallback.record(fallback.REJECTED_VALID, source, f"{err.code}: {err.message}")
    return interpreted


def fallbacks() -> dict[str, int]:
    """How many expressions fell back to the interpreter since the process started, by reason
    (fallback.REASONS). For the operations metrics, which will export these counters."""
    return fallback.counts()


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
