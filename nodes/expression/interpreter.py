"""The reference engine: jsonata-python, guarded by the budgets below (time, depth, output, regex).

Compiled once without guards; each evaluation gets a fresh child frame with its own time and depth checks
(as the library's Timebox) and always receives bindings, which keeps evaluations thread-safe. The output
and regex budgets: budget.py, natives.py, patterns.py beside this module.
"""
from __future__ import annotations

import dataclasses
import datetime
import threading
import time
from typing import Any, Mapping

from jsonata import JException

from nodes.expression import budget as budgets
from nodes.expression import natives  # noqa: F401  (guards the library's built-ins before any evaluation)
from nodes.expression.budget import Budget, Meter, NotJson
from nodes.expression.errors import ExpressionError
from nodes.expression.jsonata_internals import Evaluator, JLambda, convert_nulls
from nodes.expression.patterns import compile_pattern

_compile_lock = threading.Lock()  # the parser is shared module state in jsonata-python


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _millis() -> int:
    return int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)


class _Guarded(Evaluator):
    """jsonata-python with the two operators that can allocate without bound held to the output budget."""

    def before_range(self, lhs, rhs):
        if type(lhs) is int and type(rhs) is int:
            budgets.current().check_items(rhs - lhs + 1, "the range")

    def before_concat(self, lhs, rhs):
        for side in (lhs, rhs):
            if isinstance(side, (list, dict)):  # printed as JSON by the library, before any check of ours
                budgets.check_size(side, budgets.current(), "the string built by `&`")

    def after_concat(self, result):
        budgets.current().check_chars(len(result), "the string built by `&`")


def limits(budget: Budget | None, timeout_ms: int | None, max_depth: int | None) -> Budget:
    """The budget of one evaluation: the given one (else the process default), with the overrides."""
    b = budget or budgets.default()
    if timeout_ms is not None and timeout_ms != b.time_ms:
        b = dataclasses.replace(b, time_ms=timeout_ms)
    if max_depth is not None and max_depth != b.depth:
        b = dataclasses.replace(b, depth=max_depth)
    return b


class Expression:
    engine = "interpreter"

    def __init__(self, source: str, compiled: Evaluator):
        self.source = source
        self._compiled = compiled

    def evaluate(self, data: Any, bindings: Mapping[str, Any] | None = None, *, budget: Budget | None = None,
                 timeout_ms: int | None = None, max_depth: int | None = None) -> Any:
        expr = self._compiled
        meter = Meter(limits(budget, timeout_ms, max_depth))
        token = budgets.start(meter)
        try:
            frame = expr.create_frame(expr.environment)
            _watch(frame, meter)
            # $now()/$millis() of the library can be stale by up to 500 ms; bind fresh clocks
            frame.bind("now", JLambda(lambda *a: _now()))
            frame.bind("millis", JLambda(lambda *a: _millis()))
            for name, value in (bindings or {}).items():
                frame.bind(name, value)
            result = expr.evaluate(data, frame)
            if meter.breach is None:
                budgets.check_output(result, meter)
                # after the check, which bounds it: the library's own pass is recursive and unbounded
                result = convert_nulls(result)
        except Exception as err:
            raise failure(err, self.source, meter) from None
        finally:
            budgets.stop(token)
        if meter.breach is not None:
            raise failure(meter.breach, self.source, meter)
        return result


def _watch(frame, meter: Meter) -> None:
    """Time and depth checks at every step of the evaluation, as jsonata-python's Timebox does, but
    recording the breach on the meter: $eval reports a breach inside its text as its own D3121."""
    depth = 0
    max_depth, deadline, clock = meter.budget.depth, meter.deadline, time.monotonic

    def entry(exp, input, env):
        nonlocal depth
        if env.is_parallel_call:
            return
        depth += 1
        if depth > max_depth:
            raise meter.too_deep()
        if clock() > deadline:
            raise meter.time_out()

    def exit(exp, input, env, res):
        nonlocal depth
        if env.is_parallel_call:
            return
        depth -= 1
        if clock() > deadline:
            raise meter.time_out()

    frame.set_evaluate_entry_callback(entry)
    frame.set_evaluate_exit_callback(exit)


def failure(err: BaseException, source: str, meter: Meter) -> ExpressionError:
    """The ExpressionError for whatever ended an evaluation, in either engine. A recorded budget breach
    wins over what came out (jsonata-python may have rewrapped it as "Unexpected")."""
    if isinstance(err, ExpressionError):
        return err
    if meter.breach is not None:
        return ExpressionError(meter.breach.error, meter.breach.message, source)
    if isinstance(err, RecursionError):
        return _breach(meter.too_deep(), source)
    if isinstance(err, NotJson):
        return ExpressionError("result_not_json", str(err), source)
    if isinstance(err, JException):
        code = getattr(err, "error", None) or "U1000"
        if code in ("D1012", "U1001"):
            return _breach(meter.time_out(), source)
        if code in ("D1011", "U1002"):
            return _breach(meter.too_deep(), source)
        return _translate(err, source)
    # jsonata-python leaks ValueError, KeyError, ZeroDivisionError, ...
    return ExpressionError("U1000", f"{type(err).__name__}: {err}", source)


def _breach(err, source: str) -> ExpressionError:
    return ExpressionError(err.error, err.message, source)


def compile_interpreted(source: str) -> Expression:
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("S0000", "expression is empty", source or "")
    try:
        with _compile_lock:
            compiled = _Guarded(source, compile_pattern)
            compiled.set_output_convert_nulls(False)  # done after the output check (see evaluate)
            return Expression(source, compiled)
    except JException as err:
        raise _translate(err, source) from None
    except Exception as err:
        raise ExpressionError("S0000", f"{type(err).__name__}: {err}", source) from None


def _translate(err: JException, source: str) -> ExpressionError:
    return ExpressionError(getattr(err, "error", None) or "U1000", str(err), source, getattr(err, "location", None))
