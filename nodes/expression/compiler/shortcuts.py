"""Fast paths for the string, object and date built-ins that real mappings call on plain arguments
($merge, $toMillis, $replace, $join of one string, $trim, $contains, $substringAfter, $distinct).

Each computes what jsonata-python's own function computes for those arguments, with the same
operations, minus the signature validation and value conversion around every reference call
(bench/mapping.py measured those at 10-30 us a call). Anything else, including every error,
returns DELEGATE and goes through the reference implementation, so error codes stay the reference's.
"""
from __future__ import annotations

import datetime
import decimal
import functools
import re

from nodes.expression import natives
from nodes.expression.compiler.dates import to_millis as to_millis_picture
from nodes.expression.patterns import engine_of
from nodes.expression.compiler.values import DELEGATE, UNDEF, JList
from nodes.expression.jsonata_internals import create_sequence, is_regex

_UTC = datetime.timezone.utc
_WHITESPACE = re.compile("[ \t\n\r]+")  # the reference's $trim normalisation


def merge(args, ctx):
    """$merge(objects): later keys win; one object is merged on its own (a copy)."""
    if len(args) == 1:
        a = args[0]
        if a is UNDEF:
            return UNDEF
        if isinstance(a, dict):
            return dict(a)
        if isinstance(a, list) and all(isinstance(o, dict) for o in a):
            return {k: v for o in a for k, v in o.items()}
    return DELEGATE


def to_millis(args, ctx):
    """$toMillis(timestamp) without a picture: ISO 8601 read by datetime.fromisoformat, UTC if no zone;
    with a picture: compiler/dates.py."""
    if len(args) == 2:
        return to_millis_picture(args, ctx)
    if len(args) == 1:
        s = args[0]
        if s is UNDEF:
            return UNDEF
        if type(s) is str and not s.isdigit():  # all digits: the reference reads a year
            try:
                dt = datetime.datetime.fromisoformat(s)
            except ValueError:
                return DELEGATE  # the reference raises its own error
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=_UTC)
            return int(dt.timestamp() * 1000)
    return DELEGATE


def replace(args, ctx):
    """$replace(str, pattern, replacement) with a replacement free of `$` group references."""
    if len(args) == 3:
        s, pattern, repl = args
        if type(s) is str and type(repl) is str and "$" not in repl and "\\" not in repl:
            if type(pattern) is str:
                if not pattern:
                    return DELEGATE
                natives.replace_budget(s, pattern, repl)  # the output budget, as the guarded reference checks it
                return s.replace(pattern, repl)
            if is_regex(pattern):
                natives.replace_budget(s, pattern, repl)
                plain = _plain_regex(pattern.pattern) if engine_of(pattern) == "re2" else None
                return (plain or pattern).sub(repl, s)
    return DELEGATE


_CLASS = re.compile(r"\[\^?[^\[\]\\]+\]")  # a bracket class without escapes or nesting ([^0-9+])
_PLAIN_TEXT = re.compile(r"[^\\()|*+?{}\[\]^$]+")  # literal characters and `.`


@functools.lru_cache(maxsize=256)
def _plain_regex(text):
    """Python's `re` for an RE2 pattern of literal characters, `.` and bracket classes, without
    quantifiers, groups, anchors, escapes or flags: each match tries one fixed-length alternative at each
    position (linear, no backtracking to guard against) and both engines read these alike. RE2's Python
    wrapper costs some 30 us a call ($replace($phone, /[^0-9+]/, "") in the Shopify mapping), `re` 1 us."""
    if not isinstance(text, str) or not text or any(op in text for op in ("&&", "||", "--", "~~", "[:")):
        return None
    rest = _CLASS.sub("", text)
    if rest and not _PLAIN_TEXT.fullmatch(rest):
        return None
    try:
        return re.compile(text)
    except re.error:
        return None


def join_one(args, ctx):
    """$join of a single string (a path that matched once): the string itself."""
    n = len(args)
    if n in (1, 2) and type(args[0]) is str and (n == 1 or type(args[1]) is str):
        return args[0]
    return DELEGATE


def trim(args, ctx):
    if len(args) == 1:
        s = args[0]
        if s is UNDEF:
            return UNDEF
        if type(s) is str:
            r = _WHITESPACE.sub(" ", s)
            if r[:1] == " ":
                r = r[1:]
            if r[-1:] == " ":
                r = r[:-1]
            return r
    return DELEGATE


def contains(args, ctx):
    if len(args) == 2:
        s, token = args
        if type(s) is str and type(token) is str:
            return token in s
        if s is UNDEF and type(token) is str:
            return UNDEF
    return DELEGATE


def substring_after(args, ctx):
    if len(args) == 2:
        s, chars = args
        if type(s) is str and type(chars) is str:
            i = s.find(chars)
            return s[i + len(chars):] if i > -1 else s
        if s is UNDEF:
            return UNDEF
    return DELEGATE


def distinct(args, ctx):
    """$distinct of strings (lot numbers, SKUs): first occurrences, in order."""
    if len(args) == 1:
        a = args[0]
        if a is UNDEF:
            return UNDEF
        if not isinstance(a, list) or len(a) <= 1:
            return a
        if all(type(x) is str for x in a):
            out = create_sequence() if isinstance(a, JList) else []
            out.extend(dict.fromkeys(a))
            return out
    return DELEGATE


_AMOUNT_PICTURE = re.compile(r"(#,##)?0(\.0+)?")  # #,##0.00, 0.00, #,##0, 0


def format_number(args, ctx):
    """$formatNumber(number, "#,##0.00") and its kin (grouping or not, a fixed number of decimals): the
    reference's exact decimal value rounded half up (half down below zero) at the same place; the
    reference analyses the picture with a dozen regexes on every call (some 80 us)."""
    if len(args) != 2 or type(args[1]) is not str:
        return DELEGATE
    value, picture = args
    if value is UNDEF:
        return DELEGATE  # the reference still checks the picture
    t = type(value)
    if not (t is int or t is float) or not -1e15 < value < 1e15:
        return DELEGATE
    m = _AMOUNT_PICTURE.fullmatch(picture)
    if m is None:
        return DELEGATE
    places = len(m.group(2)) - 1 if m.group(2) else 0
    exact = decimal.Decimal.from_float(value) if t is float else decimal.Decimal(value)
    rounded = exact.quantize(decimal.Decimal(1).scaleb(-places),
                             rounding=decimal.ROUND_HALF_UP if exact > 0 else decimal.ROUND_HALF_DOWN)
    text = format(abs(rounded), ",f" if m.group(1) else "f")
    return "-" + text if exact < 0 else text


SHORTCUTS = {"formatNumber": format_number, "merge": merge, "toMillis": to_millis, "replace": replace, "trim": trim,
             "contains": contains, "substringAfter": substring_after, "distinct": distinct}

__all__ = ["SHORTCUTS", "join_one"]
