"""The number built-ins of compiled expressions ($sum, $round, $number) on plain numbers, with the
reference's results: $round rounds the shortest decimal form half to even, as its Decimal does."""
from __future__ import annotations

import math
import re

from nodes.expression.compiler.values import DELEGATE, UNDEF, JList
from nodes.expression.jsonata_internals import JException, reference_round

_SCALED_PLACES = 16
_SCALES = [10.0 ** p for p in range(_SCALED_PLACES)]  # exact: every power of ten up to 10**22 is a double
_SAFE_INT = 2 ** 53
_INT_PLACES = 12  # an int under 2**53 has 16 digits at most: rounded to 12 places it fits Decimal's 28
_NEAR_TIE = 1e-15  # y = x * 10**places lies under 2**-52 * |y| from x's shortest decimal form times 10**places


def whole(r):
    """Numbers returned by library functions: integral values become int, as the reference's _call does."""
    if type(r) is float and r.is_integer():
        return int(r)
    return r


def plain_number(v) -> bool:
    t = type(v)
    return (t is int or t is float) and v == v


def total(args, ctx):
    """$sum(numbers)."""
    if len(args) == 1:
        a = args[0]
        if a is UNDEF:
            return UNDEF
        if isinstance(a, list):
            for x in a:
                t = type(x)
                if not (t is int or t is float) or x != x:
                    return DELEGATE
            return whole(sum(a))
        if plain_number(a):
            return whole(a)
    return DELEGATE


def round_number(args, ctx):
    """$round(number[, places])."""
    n = len(args)
    if n in (1, 2) and plain_number(args[0]):
        if n == 1:
            return whole(float(round(args[0])))
        if type(args[1]) is int:
            return whole(round_half_even(args[0], args[1]))
    return DELEGATE


def round2(v, places):
    """$round(number, places) positionally."""
    if plain_number(v) and type(places) is int:
        return whole(round_half_even(v, places))
    return DELEGATE


def round_half_even(x, places: int) -> float:
    """The reference's float(round(Decimal(str(x)), places)), without Decimal unless x's shortest
    decimal form ends exactly on a tie: elsewhere the binary and decimal forms round alike."""
    if type(x) is int:
        if -_SAFE_INT < x < _SAFE_INT and 0 <= places <= _INT_PLACES:
            return float(x)  # what Decimal gives: x's digits and the places fit its 28, and x is a double
        return reference_round(x, places)
    if places < 0:
        return reference_round(x, places)
    if places < _SCALED_PLACES:
        scale = _SCALES[places]
        y = x * scale
        if -1e12 < y < 1e12:  # NaN and the infinities fail both
            n = round(y)
            # off a tie by more than the distance of y from x's shortest decimal form (under 2**-52 of y),
            # both forms round to n; n / scale is then the double nearest n / 10**places, as the reference's is
            if 0.5 - abs(y - n) > abs(y) * _NEAR_TIE:
                return n / scale if n else x * 0.0  # x * 0.0: the reference keeps the sign of a zero
    text = repr(x)
    if "e" in text or "n" in text:
        return reference_round(x, places)
    fraction = text.partition(".")[2]
    if len(fraction) == places + 1 and fraction[-1] == "5":
        return reference_round(x, places)
    return round(x, places)


def build_round_places(operand, places, finish):
    """`$round(x, 2)`: places an int literal, so a float x is rounded here, round_half_even's scaled road
    inline; anything else takes round2 (and `finish`, the reference, when that declines)."""
    scale = _SCALES[places] if 0 <= places < _SCALED_PLACES else math.nan  # NaN: y fails the range test
    int_places = 0 <= places <= _INT_PLACES

    def round_places(x, env):
        v = operand(x, env)
        if type(v) is float:
            y = v * scale
            if -1e12 < y < 1e12:
                n = round(y)
                if 0.5 - abs(y - n) > abs(y) * _NEAR_TIE:
                    r = n / scale
                    return int(r) if r.is_integer() else r
        elif type(v) is int and int_places and -_SAFE_INT < v < _SAFE_INT:
            return v  # round_half_even gives float(v), which whole() turns back into v
        r = round2(v, places)
        if r is DELEGATE or isinstance(r, JList):
            return finish([v, places], x, r)
        return r
    return round_places


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?")


def number(args, ctx):
    """$number of a string follows JSON number syntax (D3030 otherwise), as the suite does."""
    if len(args) == 1 and type(args[0]) is str:
        s = args[0]
        if _NUMBER.fullmatch(s):
            v = float(s)
            if v in (math.inf, -math.inf):
                raise JException("D3030", -1, s)
            return whole(v)
        if s[:2] in ("0x", "0B", "0O"):
            return DELEGATE
        raise JException("D3030", -1, s)
    return DELEGATE


def number1(s):
    """`$number(text)` positionally: JSON number syntax (D3030 otherwise); anything else the reference's."""
    if type(s) is str:
        if _NUMBER.fullmatch(s):
            v = float(s)
            if v in (math.inf, -math.inf):
                raise JException("D3030", -1, s)
            return int(v) if v.is_integer() else v
        if s[:2] in ("0x", "0B", "0O"):
            return DELEGATE
        raise JException("D3030", -1, s)
    return DELEGATE


__all__ = ["build_round_places", "number", "number1", "plain_number", "round2", "round_half_even",
           "round_number", "total", "whole"]
