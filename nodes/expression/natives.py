"""The library functions that can build a value far larger than their input in one call ($pad, $join,
$string, $replace, $append), held to the evaluation's output budget before they allocate.

jsonata-python keeps its built-ins in one table; both engines call the functions found there (the
compiler wraps them as its built-ins), so guarding the table's entries once guards both (through
jsonata_internals.replace_builtin_method). `install()` is idempotent and runs when this module is imported.
"""
from __future__ import annotations

import functools

from nodes.expression import budget
from nodes.expression.jsonata_internals import replace_builtin_method


def _pad(string, width, char=None):
    if isinstance(width, (int, float)) and not isinstance(width, bool) and width == width:
        budget.current().check_chars(int(min(abs(width), 1e18)), "$pad's result")


def _join(strs, separator=None):
    if isinstance(strs, list):
        n = sum(len(s) for s in strs if isinstance(s, str))
        if isinstance(separator, str):
            n += len(separator) * max(len(strs) - 1, 0)
        budget.current().check_chars(n, "$join's result")


def _string(arg, prettify=None):
    if isinstance(arg, (list, dict)):
        budget.check_size(arg, budget.current(), "$string's result")


def replace_budget(string, pattern, replacement, limit=None):
    """Checks the output budget for $replace(string, pattern, replacement, limit) before it runs."""
    if not isinstance(string, str) or not isinstance(replacement, str) or not replacement:
        return
    meter = budget.current()
    if len(string) + len(replacement) * (len(string) + 1) <= meter.budget.output_bytes:
        return
    if isinstance(pattern, str):
        matches = string.count(pattern) if pattern else 0
    elif pattern is not None and hasattr(pattern, "finditer"):
        matches = sum(1 for _ in pattern.finditer(string))
    else:
        return
    if isinstance(limit, (int, float)) and not isinstance(limit, bool):
        matches = min(matches, int(limit))
    meter.check_chars(len(string) + len(replacement) * matches, "$replace's result")


def _append(arg1, arg2):
    n = (len(arg1) if isinstance(arg1, list) else 1) + (len(arg2) if isinstance(arg2, list) else 1)
    budget.current().check_items(n, "$append's result")


_CHECKS = {"pad": _pad, "join": _join, "string": _string, "replace": replace_budget, "append": _append}


def _guarded(method, check):
    @functools.wraps(method)
    def guarded(*args):
        check(*args)
        return method(*args)
    guarded.budget_guarded = True
    return guarded


def install() -> None:
    for name, check in _CHECKS.items():
        replace_builtin_method(name, lambda method, check=check: (
            method if getattr(method, "budget_guarded", False) else _guarded(method, check)))


install()
