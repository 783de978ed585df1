"""The function library of compiled expressions: fast paths for what mappings call most, the reference rest.

Every built-in is a `Builtin` wrapping jsonata-python's own native function (its signature, its
implementation). A fast path handles the plain argument types and must give the reference's result;
anything unusual (context argument, coercion, wrong types) goes through the reference signature
validation and implementation, so error codes stay the reference's.
"""
from __future__ import annotations

import math

from nodes.expression import budget, natives  # noqa: F401  (natives: guarded built-ins)
from nodes.expression.compiler.dates import from_millis
from nodes.expression.compiler.higher_order import hof_filter, hof_map, hof_reduce
from nodes.expression.compiler.numbers import (build_round_places, number, number1, plain_number, round2,
                                                round_number, total)
from nodes.expression.compiler.shortcuts import SHORTCUTS, join_one
from nodes.expression.compiler.values import (DELEGATE, UNDEF, JList, boolize, from_reference, literal_of,
                                               lookup, mangle, to_reference)
from nodes.expression.jsonata_internals import JException, JFunction, JFunctionCallable, builtin_functions, reference_substring

_SAFE_INT = 2 ** 53


class Builtin(JFunction):
    """A built-in function value; `compiled_impl(args, ctx, pos)` works in the compiled value model."""

    def __init__(self, name, native, fast=None):
        self.function = native.function if hasattr(native, "function") else None
        self.signature = native.signature
        self.function_name = name
        self.native = native
        self.fast = fast

    def call(self, input, args):
        return self.native.call(input, args)

    def validate(self, args, context):
        return self.native.validate(args, context)

    def get_number_of_args(self):
        return self.native.get_number_of_args()

    def reference(self, args, ctx, pos):
        try:
            ref = [to_reference(a) for a in args]
            c = to_reference(ctx)
            return from_reference(self.native.call(c, self.native.validate(ref, c)))
        except JException as err:
            if err.location < 0:
                err.location = pos
            raise

    def compiled_impl(self, args, ctx, pos):
        if self.fast is not None:
            r = self.fast(args, ctx)
            if r is not _DELEGATE:
                return r
        return self.reference(args, ctx, pos)


_DELEGATE = DELEGATE


def _count(args, ctx):
    if len(args) == 1:
        a = args[0]
        if a is UNDEF:
            return 0
        if isinstance(a, list):
            return len(a)
    return _DELEGATE


def _substring(args, ctx):
    n = len(args)
    if n in (2, 3) and type(args[0]) is str and plain_number(args[1]):
        if n == 2:
            return reference_substring(args[0], args[1], None)
        if plain_number(args[2]):
            return reference_substring(args[0], args[1], args[2])
    return _DELEGATE


def _case(convert):
    """$uppercase / $lowercase: strings converted here, UNDEF kept, anything else to the reference."""
    def fast(args, ctx):
        if len(args) == 1:
            s = args[0]
            if type(s) is str:
                return convert(s)
            if s is UNDEF:
                return UNDEF
        return _DELEGATE
    return fast


_upper = _case(str.upper)
_lower = _case(str.casefold)


def _lookup(args, ctx):
    if len(args) == 2 and type(args[1]) is str:
        return lookup(args[0], args[1])
    return _DELEGATE


def _join(args, ctx):
    n = len(args)
    if n in (1, 2) and isinstance(args[0], list) and all(type(s) is str for s in args[0]):
        if n == 1:
            _join_budget(args[0], "")
            return "".join(args[0])
        if type(args[1]) is str:
            _join_budget(args[0], args[1])
            return args[1].join(args[0])
    return join_one(args, ctx)


def _join_budget(strs, separator):
    n = sum(map(len, strs)) + len(separator) * max(len(strs) - 1, 0)
    meter = budget.current()
    if n > meter.budget.output_bytes:
        meter.check_chars(n, "$join's result")


def _split(args, ctx):
    if len(args) == 2 and type(args[0]) is str and type(args[1]) is str and args[1]:
        return JList(args[0].split(args[1]))
    return _DELEGATE


def _string(args, ctx):
    if len(args) == 1:
        a = args[0]
        t = type(a)
        if t is str:
            return a
        # the reference prints large integers in exponent form; the suite (and JS) print them whole
        if t is int and -_SAFE_INT < a < _SAFE_INT:
            return str(a)
        if t is float and (a != a or a in (math.inf, -math.inf)):
            raise JException("D3001", -1, a)
        if a is UNDEF:
            return UNDEF
        if isinstance(a, (list, dict)):
            budget.check_size(a, budget.current(), "$string's result")
            if not _finite(a):
                raise JException("D1001", -1, a)
    return _DELEGATE


def _finite(v) -> bool:
    if type(v) is float:
        return v == v and v not in (math.inf, -math.inf)
    if isinstance(v, list):
        return all(_finite(x) for x in v)
    if isinstance(v, dict):
        return all(_finite(x) for x in v.values())
    return True


def _exists(args, ctx):
    if len(args) == 1:
        return args[0] is not UNDEF
    return _DELEGATE


def _boolean(args, ctx):
    if len(args) == 1 and not isinstance(args[0], JFunctionCallable):
        a = args[0]
        return UNDEF if a is UNDEF else boolize(a)
    return _DELEGATE


def _not(args, ctx):
    if len(args) == 1 and not isinstance(args[0], JFunctionCallable):
        a = args[0]
        return UNDEF if a is UNDEF else not boolize(a)
    return _DELEGATE


def _upper1(s):
    return s.upper() if type(s) is str else (UNDEF if s is UNDEF else DELEGATE)


def _lower1(s):
    return s.casefold() if type(s) is str else (UNDEF if s is UNDEF else DELEGATE)


def _lookup2(obj, key):
    return lookup(obj, key) if type(key) is str else DELEGATE


def _substring3(s, start, length):
    if type(s) is str and type(start) is int and type(length) is int and start >= 0:
        return s[start:start + length] if length > 0 else ""  # the reference's substr, for these
    if type(s) is str and plain_number(start) and plain_number(length):
        return reference_substring(s, start, length)
    return DELEGATE


# the hottest calls of mappings, taking their arguments positionally: (name, argument count) -> fast path
_POSITIONAL = {("number", 1): number1, ("uppercase", 1): _upper1, ("lowercase", 1): _lower1, ("round", 2): round2,
               ("lookup", 2): _lookup2, ("substring", 3): _substring3}


def _positional_call(fast, args, reference, finish):
    if len(args) == 1:
        a0 = args[0]

        def call1(x, env):
            v = a0(x, env)
            r = fast(v)
            if r is DELEGATE or isinstance(r, JList):
                return finish([v], x, r)
            return r
        return call1
    if len(args) == 2:
        a0, a1 = args

        def call2(x, env):
            v, w = a0(x, env), a1(x, env)
            r = fast(v, w)
            if r is DELEGATE or isinstance(r, JList):
                return finish([v, w], x, r)
            return r
        return call2
    a0, a1, a2 = args
    w, u = literal_of(a1), literal_of(a2)
    if w is not UNDEF and u is not UNDEF:
        def call3_literals(x, env):  # `$substring(s, 0, 30)`: the literals read at compile time
            v = a0(x, env)
            r = fast(v, w, u)
            if r is DELEGATE or isinstance(r, JList):
                return finish([v, w, u], x, r)
            return r
        return call3_literals

    def call3(x, env):
        v, w, u = a0(x, env), a1(x, env), a2(x, env)
        r = fast(v, w, u)
        if r is DELEGATE or isinstance(r, JList):
            return finish([v, w, u], x, r)
        return r
    return call3


_FAST = {
    "sum": total, "count": _count, "round": round_number, "substring": _substring,
    "uppercase": _upper, "lowercase": _lower, "lookup": _lookup, "join": _join, "split": _split,
    "string": _string, "exists": _exists, "boolean": _boolean, "not": _not,
    "number": number, "fromMillis": from_millis,
    "map": hof_map, "filter": hof_filter, "reduce": hof_reduce, **SHORTCUTS,
}


def _builtins() -> dict:
    out = {}
    for name, native in builtin_functions().items():
        if name not in ("now", "millis"):
            out[name] = Builtin(name, native, _FAST.get(name))
    return out


BUILTINS = _builtins()


def build_builtin_call(b: Builtin, args, applied_to, pos, raw=False):
    """The closure for `$name(args)` (or `value ~> $name(args)`) with a built-in the expression never rebinds."""
    fast, reference = b.fast, b.reference
    if applied_to is not None:
        args = [applied_to] + list(args)
    if raw:
        def raw_call(x, env):
            values = [a(x, env) for a in args]
            r = fast(values, x) if fast is not None else _DELEGATE
            return reference(values, x, pos) if r is _DELEGATE else r
        return raw_call
    if fast is None:
        def call(x, env):
            r = reference([a(x, env) for a in args], x, pos)
            if isinstance(r, JList) and r.sequence:
                return mangle(r)
            return r
        return call

    def finish(values, x, r):
        if r is _DELEGATE:
            r = reference(values, x, pos)
        if isinstance(r, JList) and r.sequence:
            return mangle(r)
        return r

    if b.function_name == "round" and len(args) == 2 and type(literal_of(args[1])) is int:
        return build_round_places(args[0], literal_of(args[1]), finish)
    positional = _POSITIONAL.get((b.function_name, len(args)))
    if positional is not None:
        return _positional_call(positional, args, reference, finish)
    if len(args) == 1:
        a0 = args[0]

        def call1(x, env):
            values = [a0(x, env)]
            r = fast(values, x)
            if r is _DELEGATE or isinstance(r, JList):
                return finish(values, x, r)
            return r
        return call1
    if len(args) == 2:
        a0, a1 = args

        def call2(x, env):
            values = [a0(x, env), a1(x, env)]
            r = fast(values, x)
            if r is _DELEGATE or isinstance(r, JList):
                return finish(values, x, r)
            return r
        return call2

    def call(x, env):
        values = [a(x, env) for a in args]
        r = fast(values, x)
        if r is _DELEGATE or isinstance(r, JList):
            return finish(values, x, r)
        return r
    return call


__all__ = ["BUILTINS", "Builtin", "build_builtin_call"]
