"""The JSONata compiler: an expression's AST becomes Python closures, built once, evaluated some 15-20x
faster than the interpreter (bench/mapping.py).

jsonata-python stays the reference for what every expression means: its parser, its function library
for the uncommon cases, and the interpreter for what the compiler refuses (`Unsupported`).
"""
from __future__ import annotations

from typing import Any, Mapping

from jsonata.jexception import JException

from nodes.expression.compiler.builder import Builder
from nodes.expression.compiler.runtime import Frame, State
from nodes.expression.compiler.syntax import Unsupported, parse
from nodes.expression.compiler.values import UNDEF, Seq, to_output
from nodes.expression.errors import ExpressionError
from nodes.expression.interpreter import MAX_DEPTH, TIMEOUT_MS, _translate, compile_interpreted

__all__ = ["CompiledExpression", "Unsupported", "compile_compiled"]


class CompiledExpression:
    engine = "compiled"

    def __init__(self, source: str, fn, static_builtins: set[str]):
        self.source = source
        self._fn = fn
        self._static = frozenset(static_builtins)
        self._interpreted = None

    def evaluate(self, data: Any, bindings: Mapping[str, Any] | None = None, *,
                 timeout_ms: int = TIMEOUT_MS, max_depth: int = MAX_DEPTH) -> Any:
        if bindings and not self._static.isdisjoint(bindings):
            # a binding shadows a built-in the compiled code calls directly: let the interpreter decide
            if self._interpreted is None:
                self._interpreted = compile_interpreted(self.source)
            return self._interpreted.evaluate(data, bindings, timeout_ms=timeout_ms, max_depth=max_depth)
        state = State(timeout_ms, max_depth)
        root = Frame(None, state)
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
        try:
            return to_output(self._fn(context, root))
        except JException as err:
            raise _translate(err, self.source) from None
        except RecursionError:
            raise ExpressionError("U1002", "expression nested too deeply", self.source) from None
        except ExpressionError:
            raise
        except Exception as err:
            raise ExpressionError("U1000", f"{type(err).__name__}: {err}", self.source) from None


def compile_compiled(source: str) -> CompiledExpression:
    """Compile `source`; raises ExpressionError for invalid JSONata, Unsupported outside the subset."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("S0000", "expression is empty", source or "")
    try:
        ast = parse(source)
    except JException as err:
        raise _translate(err, source) from None
    except Exception as err:
        raise ExpressionError("S0000", f"{type(err).__name__}: {err}", source) from None
    builder = Builder(ast)
    try:
        fn = builder.build(ast)
    except (Unsupported, JException):
        raise
    except Exception as err:  # a construct the builder does not know: the interpreter takes it
        raise Unsupported(f"not compiled: {type(err).__name__}: {err}") from err
    return CompiledExpression(source, fn, builder.static_builtins)
