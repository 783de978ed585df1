"""The JSONata compiler: an expression's AST becomes Python closures, built once, evaluated some 15-20x
faster than the interpreter (bench/mapping.py).

jsonata-python stays the reference for what every expression means: its parser, its function library
for the uncommon cases, and the interpreter for what the compiler refuses (`Unsupported`). What the
compiler uses of jsonata-python's internals goes through nodes/expression/jsonata_internals.py only.
"""
from __future__ import annotations

from typing import Any, Mapping

from nodes.expression import fallback
from nodes.expression.compiler.builder import Builder
from nodes.expression.compiler.runtime import Frame, State
from nodes.expression.compiler.syntax import Unsupported, parse
from nodes.expression.compiler.values import UNDEF, Seq, to_output
from nodes.expression import budget as budgets
from nodes.expression.budget import Budget, Meter
from nodes.expression.errors import ExpressionError
from nodes.expression.interpreter import _translate, compile_interpreted, failure, limits
from nodes.expression.jsonata_internals import JException

__all__ = ["CompiledExpression", "CompilerError", "Unsupported", "compile_closures"]


class CompilerError(Exception):
    """The compiler failed on an expression inside its subset: a bug of ours, or a jsonata-python
    internal that changed (test_jsonata_internals.py names which). Unlike `Unsupported`, never meant."""


class CompiledExpression:
    engine = "compiled"

    def __init__(self, source: str, fn, static_builtins: set[str]):
        self.source = source
        self._fn = fn
        self._static = frozenset(static_builtins)
        self._interpreted = None

    def evaluate(self, data: Any, bindings: Mapping[str, Any] | None = None, *, budget: Budget | None = None,
                 timeout_ms: int | None = None, max_depth: int | None = None) -> Any:
        if bindings and not self._static.isdisjoint(bindings):
            # a binding shadows a built-in the compiled code calls directly: let the interpreter decide
            if self._interpreted is None:
                self._interpreted = compile_interpreted(self.source)
                fallback.record(fallback.SHADOWED_BUILTIN, self.source,
                                "a binding shadows " + ", ".join(sorted(self._static.intersection(bindings))))
            return self._interpreted.evaluate(data, bindings, budget=budget, timeout_ms=timeout_ms,
                                              max_depth=max_depth)
        meter = Meter(limits(budget, timeout_ms, max_depth))
        root = Frame(None, State(meter))
        root.vars["$"] = UNDEF if data is None else data
        for name, value in (bindings or {}).items():
            root.vars[name] = UNDEF if value is None else value
        if data is None:
            context = UNDEF
        elif isinstance(data, list):
            # a top-level array is one input, not a sequence of inputs
            context = Seq((data,))
            context.outer_wrapper = True
        else:
            context = data
        token = budgets.start(meter)
        try:
            result = to_output(self._fn(context, root))
            if meter.breach is None:
                budgets.check_output(result, meter)
        except Exception as err:
            raise failure(err, self.source, meter) from None
        finally:
            budgets.stop(token)
        if meter.breach is not None:
            raise failure(meter.breach, self.source, meter)
        return result


def compile_closures(source: str) -> CompiledExpression:
    """Compile `source`; raises ExpressionError for invalid JSONata, Unsupported outside the subset,
    CompilerError when the compiler itself fails."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("S0000", "expression is empty", source or "")
    try:
        ast = parse(source)
    except JException as err:
        raise _translate(err, source) from None
    except Exception as err:  # jsonata-python's parser leaks Python errors for some invalid expressions
        raise ExpressionError("S0000", f"{type(err).__name__}: {err}", source) from None
    builder = Builder(ast)
    try:
        fn = builder.build(ast)
    except Unsupported:
        raise
    except JException as err:
        raise _translate(err, source) from None
    except Exception as err:
        raise CompilerError(f"{type(err).__name__}: {err}") from err
    return CompiledExpression(source, fn, builder.static_builtins)
