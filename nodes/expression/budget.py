"""The budgets of one evaluation, the same in both engines: wall time, output size, recursion depth.

`Budget` is the setting (the Runtime makes it the process default); a `Meter` is one evaluation's account,
published to its thread (`current`) so that whatever can build a huge value or match a regex checks it,
whichever engine called. A breach is recorded as well as raised: jsonata-python rewraps some errors.
"""
from __future__ import annotations

import contextvars
import math
import time
from dataclasses import dataclass

from jsonata import JException

from nodes.expression.jsonata_internals import NULL_VALUE as _NULL  # JSON null inside the interpreter's results


@dataclass(frozen=True)
class Budget:
    time_ms: int = 2000  # wall time of one evaluation, regex matching included
    depth: int = 300  # nested function calls / expression depth
    output_bytes: int = 1024 * 1024  # JSON size of the result, and length of any one string built on the way
    items: int = 1_000_000  # length of any one array built in one step (range, $append)


_default = Budget()


def configure(budget: Budget) -> None:
    """Set the process default (the Runtime does, from its settings)."""
    global _default
    _default = budget


def default() -> Budget:
    return _default


CODES = {"time": "budget_time", "output": "budget_output", "depth": "budget_depth"}


class BudgetExceeded(JException):
    """Raised inside an evaluation; a JException so that jsonata-python lets it through unchanged."""

    def __init__(self, code: str, message: str):
        super().__init__(code, -1)
        self.error = code
        self.args = (message,)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Meter:
    __slots__ = ("budget", "deadline", "breach")

    def __init__(self, budget: Budget):
        self.budget = budget
        self.deadline = time.monotonic() + budget.time_ms / 1000.0
        self.breach: BudgetExceeded | None = None

    def remaining_s(self) -> float:
        return max(self.deadline - time.monotonic(), 0.001)

    def exceeded(self, kind: str, message: str) -> BudgetExceeded:
        err = BudgetExceeded(CODES[kind], message)
        if self.breach is None:
            self.breach = err
        return err

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise self.time_out()

    def time_out(self) -> BudgetExceeded:
        return self.exceeded("time", f"the evaluation ran past its time budget of {self.budget.time_ms} ms")

    def too_deep(self) -> BudgetExceeded:
        return self.exceeded("depth", f"the evaluation nested deeper than its depth budget of {self.budget.depth}")

    def check_chars(self, n: int, what: str = "a string") -> None:
        if n > self.budget.output_bytes:
            raise self.exceeded("output", f"{what} of {n:,} characters is over the output budget of "
                                          f"{self.budget.output_bytes:,}")

    def check_items(self, n: int, what: str = "an array") -> None:
        if n > self.budget.items:
            raise self.exceeded("output", f"{what} of {n:,} items is over the output budget of "
                                          f"{self.budget.items:,} items")


_current: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("expression_meter", default=None)


def current() -> Meter:
    """The meter of the evaluation running here; outside one (a test calling the library), the default's."""
    meter = _current.get()
    return meter if meter is not None else Meter(_default)


def start(meter: Meter):
    return _current.set(meter)


def stop(token) -> None:
    _current.reset(token)


class NotJson(Exception):
    """The result is not a JSON value (a function, a regex, NaN or Infinity)."""


def check_output(value, meter: Meter, what: str = "the result") -> None:
    """Raise NotJson unless `value` is JSON; a budget_output breach past the size budget."""
    if _json_size(value, meter.budget.output_bytes, strict=True) > meter.budget.output_bytes:
        raise meter.exceeded("output", f"{what} is over the output budget of {meter.budget.output_bytes:,} "
                                       "bytes of JSON")


def check_size(value, meter: Meter, what: str) -> None:
    """A budget_output breach if `value` would print as more JSON than the budget (before printing it)."""
    if _json_size(value, meter.budget.output_bytes, strict=False) > meter.budget.output_bytes:
        raise meter.exceeded("output", f"{what} is over the output budget of {meter.budget.output_bytes:,} "
                                       "bytes of JSON")


def _json_size(value, limit: int, strict: bool) -> int:
    """About how many bytes `value` takes as JSON, counting no further than just past `limit`. Iterative
    (no recursion limit) and stops at the limit, so shared references cannot make it slow. Scalars in
    objects and arrays are counted in place (most of a mapping's output), containers go on the stack."""
    size = 0
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        v = pop()
        t = type(v)
        if t is dict or (t is not str and isinstance(v, dict)):
            for k, x in v.items():
                if type(k) is not str:
                    if strict:
                        raise NotJson(f"the result holds an object key that is not a string: {k!r}")
                    k = str(k)
                tx = type(x)
                if tx is str:
                    size += len(k) + len(x) + 6
                elif tx is int or tx is bool or x is None:
                    size += len(k) + 9
                elif tx is float and not x - x:  # finite (x - x is NaN for NaN and the infinities)
                    size += len(k) + 12
                else:
                    size += len(k) + 4
                    push(x)
        elif isinstance(v, list):
            size += len(v) + 1
            for x in v:
                tx = type(x)
                if tx is str:
                    size += len(x) + 2
                elif tx is int or tx is bool or x is None:
                    size += 5
                elif tx is float and not x - x:
                    size += 8
                else:
                    push(x)
        else:
            size += _scalar_size(v, strict)
        if size > limit:
            return size
    return size


def _scalar_size(v, strict: bool) -> int:
    if isinstance(v, str):
        return len(v) + 2
    if v is None or v is _NULL or isinstance(v, int):
        return 5
    if isinstance(v, float):
        if strict and (v != v or v in (math.inf, -math.inf)):
            raise NotJson("the result holds NaN or Infinity, which JSON cannot carry")
        return 8
    if strict:
        raise NotJson("the result holds a function or a regex, which JSON cannot carry")
    return 0
