"""Closures for JSONata's operators: arithmetic, comparison, equality, boolean, concatenation, range, in.

Type errors carry the reference's codes (T2001, T2002, T2009, T2010, ...); where jsonata-python leaks a
Python error (division by zero) the compiler raises a JSONata error instead (D1001), and `%` keeps the
fraction as the suite does.
"""
from __future__ import annotations

import math

from nodes.expression import budget
from nodes.expression.compiler.values import (UNDEF, Arr, boolize, deep_equal, from_reference,
                                               is_number, literal_of, number_result, to_reference)
from nodes.expression.jsonata_internals import JException, reference_string

_SAFE_INT = 2 ** 53
_HUGE = 1e300  # a literal converted to float at compile time: far from overflowing


def stringify(v) -> str:
    """A value as `&` and $string print it; whole numbers print whole (the suite, not the reference)."""
    t = type(v)
    if t is str:
        return v
    if t is int and -_SAFE_INT < v < _SAFE_INT:
        return str(v)
    if isinstance(v, (list, dict)):
        budget.check_size(v, budget.current(), "the string built by `&`")
    return from_reference(reference_string(to_reference(v), None))


def build_negate(node, build):
    operand = build(node.expression)
    pos = node.position

    def negate(x, env):
        v = operand(x, env)
        if v is UNDEF:
            return UNDEF
        if is_number(v):
            return number_result(-float(v))
        raise JException("D1002", pos, "-", v)
    return negate


def build_binary(node, build):
    op = node.value
    lhs = build(node.lhs)
    rhs = build(node.rhs)
    pos = node.position
    if op in ("and", "or"):
        return _boolean(op, lhs, rhs)
    maker = _BINARY.get(op)
    if maker is None:
        raise JException("S0201", pos, op)
    if maker is _equality and node.rhs.type == "string" and not node.rhs.predicate:
        return _equality(op, lhs, rhs, pos, node.rhs.value)  # `type = "pct"`: a string test
    return maker(op, lhs, rhs, pos)


def _boolean(op, lhs, rhs):
    if op == "and":
        return lambda x, env: boolize(lhs(x, env)) and boolize(rhs(x, env))
    return lambda x, env: boolize(lhs(x, env)) or boolize(rhs(x, env))


def _numbers(op, l, r, pos):
    """Checks both operands; None when either is undefined."""
    if l is not UNDEF and not is_number(l):
        raise JException("T2001", pos, op, l)
    if r is not UNDEF and not is_number(r):
        raise JException("T2002", pos, op, r)
    if l is UNDEF or r is UNDEF:
        return None
    return float(l), float(r)


def _arith(op, lhs, rhs, pos):
    def add(x, env):
        l, r = lhs(x, env), rhs(x, env)
        tl, tr = type(l), type(r)
        if (tl is int or tl is float) and (tr is int or tr is float):
            v = float(l) + float(r)
            if v.is_integer():
                return int(v)
            return v if v - v == 0 else number_result(v)  # v - v is NaN for NaN and the infinities
        return other_values(l, r)

    def sub(x, env):
        l, r = lhs(x, env), rhs(x, env)
        tl, tr = type(l), type(r)
        if (tl is int or tl is float) and (tr is int or tr is float):
            v = float(l) - float(r)
            if v.is_integer():
                return int(v)
            return v if v - v == 0 else number_result(v)
        return other_values(l, r)

    def div(x, env):
        l, r = lhs(x, env), rhs(x, env)
        tl, tr = type(l), type(r)
        if (tl is int or tl is float) and (tr is int or tr is float) and r:
            return number_result(float(l) / float(r))
        return other_values(l, r)

    def other(x, env):
        return other_values(lhs(x, env), rhs(x, env))

    def other_values(l, r):
        ab = _numbers(op, l, r, pos)
        if ab is None:
            return UNDEF
        a, b = ab
        if op == "+":
            v = a + b
        elif op == "-":
            v = a - b
        elif op == "*":
            v = a * b
        elif op == "/":
            if b == 0:
                # JS yields Infinity and fails later, where a number is needed; a mapping output
                # cannot carry Infinity, so fail here, as the interpreter does (with a JSONata code)
                raise JException("D1001", pos, math.copysign(math.inf, a) if a else math.nan)
            v = a / b
        else:
            if b == 0:
                raise JException("D1001", pos, math.nan)
            v = math.fmod(a, b)
        return number_result(v)

    def mul(x, env):
        l, r = lhs(x, env), rhs(x, env)
        tl, tr = type(l), type(r)
        if (tl is int or tl is float) and (tr is int or tr is float):
            v = float(l) * float(r)
            if v.is_integer():
                return int(v)
            return v if v - v == 0 else number_result(v)
        return other_values(l, r)

    if op != "%":
        for operand, literal_closure, on_left in ((lhs, rhs, False), (rhs, lhs, True)):
            c = literal_of(literal_closure)
            if (type(c) is int or type(c) is float) and -_HUGE < c < _HUGE and (c or op != "/" or on_left):
                return _arith_literal(op, operand, c, on_left, other_values)
    return {"+": add, "*": mul, "-": sub, "/": div}.get(op, other)


def _arith_literal(op, operand, c, on_left, other_values):
    """`$i + 1`, `x * 10`, `x / 100`, `1 - x`: one operand a number literal (finite; not a zero divisor),
    converted once; the same arithmetic as the closures of two operands, one closure call fewer. k is a
    float, so an int operand meets it converted as float(v) would convert it (no call to float)."""
    k = float(c)

    def values(v):
        return other_values(c, v) if on_left else other_values(v, c)

    if op == "+":  # commutative: k + v and v + k are the same double
        def add_literal(x, env):
            v = operand(x, env)
            t = type(v)
            if t is int or t is float:
                r = v + k
                if r.is_integer():
                    return int(r)
                return r if r - r == 0 else number_result(r)
            return values(v)
        return add_literal
    if op == "*":
        def mul_literal(x, env):
            v = operand(x, env)
            t = type(v)
            if t is int or t is float:
                r = v * k
                if r.is_integer():
                    return int(r)
                return r if r - r == 0 else number_result(r)
            return values(v)
        return mul_literal
    if op == "-" and on_left:
        def literal_minus(x, env):
            v = operand(x, env)
            t = type(v)
            if t is int or t is float:
                r = k - v
                if r.is_integer():
                    return int(r)
                return r if r - r == 0 else number_result(r)
            return values(v)
        return literal_minus
    if op == "-":
        def minus_literal(x, env):
            v = operand(x, env)
            t = type(v)
            if t is int or t is float:
                r = v - k
                if r.is_integer():
                    return int(r)
                return r if r - r == 0 else number_result(r)
            return values(v)
        return minus_literal
    if on_left:
        def literal_over(x, env):
            v = operand(x, env)
            t = type(v)
            if (t is int or t is float) and v:
                return number_result(k / v)
            return values(v)
        return literal_over

    def over_literal(x, env):
        v = operand(x, env)
        t = type(v)
        if t is int or t is float:
            return number_result(v / k)
        return values(v)
    return over_literal


def _equality(op, lhs, rhs, pos, literal=None):
    negate = op == "!="
    if literal is not None:
        def equal_literal(x, env):
            v = lhs(x, env)
            return (type(v) is str and v == literal) != negate if v is not UNDEF else False
        return equal_literal

    def equal(x, env):
        l, r = lhs(x, env), rhs(x, env)
        t = type(l)
        if t is type(r) and (t is str or t is int or t is float):
            return (l == r) != negate
        if l is UNDEF or r is UNDEF:
            return False
        return deep_equal(l, r) != negate
    return equal


def _comparable(v) -> bool:
    return v is UNDEF or type(v) is str or (type(v) in (int, float))


def _comparison(op, lhs, rhs, pos):
    def compare(x, env):
        l, r = lhs(x, env), rhs(x, env)
        if not _comparable(l) or not _comparable(r):
            raise JException("T2010", pos, op, l if l is not UNDEF else r)
        if l is UNDEF or r is UNDEF:
            return UNDEF
        if (type(l) is str) != (type(r) is str):
            raise JException("T2009", pos, l, r, op)
        if op == "<":
            return l < r
        if op == "<=":
            return l <= r
        if op == ">":
            return l > r
        return l >= r
    return compare


def _concat(op, lhs, rhs, pos):
    def concat(x, env):
        l, r = lhs(x, env), rhs(x, env)
        s = (stringify(l) if l is not UNDEF else "") + (stringify(r) if r is not UNDEF else "")
        if len(s) > env.state.max_chars:
            env.state.meter.check_chars(len(s), "the string built by `&`")
        return s
    return concat


def _range(op, lhs, rhs, pos):
    def rng(x, env):
        l, r = lhs(x, env), rhs(x, env)
        if l is not UNDEF and type(l) is not int and not (type(l) is float and l.is_integer()):
            raise JException("T2003", pos, l)
        if r is not UNDEF and type(r) is not int and not (type(r) is float and r.is_integer()):
            raise JException("T2004", pos, r)
        if l is UNDEF or r is UNDEF:
            return UNDEF
        l, r = int(l), int(r)
        if l > r:
            return UNDEF
        if r - l + 1 > env.state.max_items:
            env.state.meter.check_items(r - l + 1, "the range")
        return Arr(range(l, r + 1))
    return rng


def _includes(op, lhs, rhs, pos):
    def includes(x, env):
        l, r = lhs(x, env), rhs(x, env)
        if l is UNDEF or r is UNDEF:
            return False
        items = r if isinstance(r, list) else (r,)
        # Python equality, as the reference compares (so `1 in [true]` holds there too)
        return any(item == l for item in items)
    return includes


_BINARY = {"+": _arith, "-": _arith, "*": _arith, "/": _arith, "%": _arith,
           "=": _equality, "!=": _equality, "<": _comparison, "<=": _comparison,
           ">": _comparison, ">=": _comparison, "&": _concat, "..": _range, "in": _includes}
