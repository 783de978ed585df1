"""The reference engine: jsonata-python, guarded as ../shared/LIBRARIES.md prescribes.

Compiled once without guards; each evaluation gets a fresh child frame with its own time and depth
budget (Timebox) and always receives bindings, which keeps evaluations thread-safe.
"""
from __future__ import annotations

import datetime
import threading
from typing import Any, Mapping

from jsonata import Jsonata
from jsonata.jexception import JException
from jsonata.timebox import Timebox

from nodes.expression.errors import ExpressionError

TIMEOUT_MS = 5000
MAX_DEPTH = 300
_compile_lock = threading.Lock()  # the parser is shared module state in jsonata-python


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _millis() -> int:
    return int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)


class Expression:
    engine = "interpreter"

    def __init__(self, source: str, compiled: Jsonata):
        self.source = source
        self._compiled = compiled

    def evaluate(self, data: Any, bindings: Mapping[str, Any] | None = None, *,
                 timeout_ms: int = TIMEOUT_MS, max_depth: int = MAX_DEPTH) -> Any:
        expr = self._compiled
        try:
            frame = expr.create_frame(expr.environment)
            Timebox(frame, timeout_ms, max_depth)
            # $now()/$millis() of the library can be stale by up to 500 ms; bind fresh clocks
            frame.bind("now", Jsonata.JLambda(lambda *a: _now()))
            frame.bind("millis", Jsonata.JLambda(lambda *a: _millis()))
            for name, value in (bindings or {}).items():
                frame.bind(name, value)
            return expr.evaluate(data, frame)
        except JException as err:
            raise _translate(err, self.source) from None
        except RecursionError:
            raise ExpressionError("U1002", "expression nested too deeply", self.source) from None
        except Exception as err:  # jsonata-python leaks ValueError, KeyError, ZeroDivisionError, ...
            raise ExpressionError("U1000", f"{type(err).__name__}: {err}", self.source) from None


def compile_interpreted(source: str) -> Expression:
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("S0000", "expression is empty", source or "")
    try:
        with _compile_lock:
            return Expression(source, Jsonata(source))
    except JException as err:
        raise _translate(err, source) from None
    except Exception as err:
        raise ExpressionError("S0000", f"{type(err).__name__}: {err}", source) from None


def _translate(err: JException, source: str) -> ExpressionError:
    code = getattr(err, "error", None) or "U1000"
    message = str(err)
    if code == "U1001" or "timeout" in message.lower():
        code = "U1001"
    if "stack" in message.lower() and "depth" in message.lower():
        code = "U1002"
    return ExpressionError(code, message, source, getattr(err, "location", None))
