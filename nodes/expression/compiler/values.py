"""JSONata's value model for compiled expressions: undefined vs null, sequences, singleton flattening.

JSON null is Python None (as in the input documents, so lookups need no conversion); JSONata's
`undefined` is the UNDEF sentinel. Sequences and arrays subclass jsonata-python's JList so that the
reference function library, which some functions still delegate to, sees the flags it expects.
"""
from __future__ import annotations

import math

from nodes.expression.jsonata_internals import NULL_VALUE, JException, JList, recurse_nulls


class _Undefined:
    __slots__ = ()

    def __repr__(self):
        return "undefined"

    def __bool__(self):
        return False


UNDEF = _Undefined()
DELEGATE = object()  # a library fast path's answer for "not a plain case: ask the reference"


class Seq(JList):
    """A JSONata sequence: flattened by paths, a singleton collapses to its item."""
    sequence = True
    outer_wrapper = False
    tuple_stream = False
    keep_singleton = False
    cons = False
    # list's own __init__ (items=(), positional): JList's would set the flags on each instance, and a
    # Python-level __init__ costs a frame per sequence built (paths and filters build one per step)
    __init__ = list.__init__


class Arr(JList):
    """An array value (constructed with [...] or returned by a function); never collapses."""
    sequence = False
    outer_wrapper = False
    tuple_stream = False
    keep_singleton = False
    cons = False
    __init__ = list.__init__


def literal(value):
    """The closure of a literal (string, number, true, false, null): its value, which the closures built
    around it can read at compile time as `literal_of(closure)`."""
    def literal_value(x, env):
        return value
    literal_value.literal = value
    return literal_value


def literal_of(fn):
    """The value of a closure built by `literal`, else UNDEF (which no literal is)."""
    return getattr(fn, "literal", UNDEF)


def is_seq(v) -> bool:
    return isinstance(v, JList) and v.sequence


def mangle(r, keep_array=False):
    """What every evaluated node does with its result: empty sequence -> undefined, singleton -> item."""
    if isinstance(r, JList) and r.sequence and not r.tuple_stream:
        if keep_array:
            r.keep_singleton = True
        n = len(r)
        if n == 0:
            return UNDEF
        if n == 1 and not r.keep_singleton:
            return r[0]
    return r


def lookup(v, key):
    """A field step: dict member, or the flattened members of every item of an array."""
    if isinstance(v, dict):
        return v.get(key, UNDEF)
    if isinstance(v, list):
        out = Seq()
        for item in v:
            r = lookup(item, key)
            if r is not UNDEF:
                if isinstance(r, list):
                    out.extend(r)
                else:
                    out.append(r)
        return out
    return UNDEF


def append(a, b):
    """fn.append: undefined-tolerant concatenation that always yields a fresh array."""
    if a is UNDEF:
        return b
    if b is UNDEF:
        return a
    out = Arr(a) if isinstance(a, list) else Arr((a,))
    if isinstance(b, list):
        out.extend(b)
    else:
        out.append(b)
    return out


def flatten(v, into=None):
    out = Arr() if into is None else into
    if isinstance(v, list):
        for item in v:
            flatten(item, out)
    else:
        out.append(v)
    return out


def is_number(v) -> bool:
    t = type(v)
    if t is int:
        return True
    if t is float:
        if v != v:
            return False
        if v in (math.inf, -math.inf):
            raise JException("D1001", 0, v)
        return True
    return False


def number_result(r):
    """Arithmetic results: integral floats become int, as the reference does; overflow is D1001."""
    if r.is_integer():
        return int(r)
    if r != r or r in (math.inf, -math.inf):
        raise JException("D1001", -1, r)
    return r


def boolize(v) -> bool:
    """JSONata truthiness (fn.boolean; undefined is false)."""
    if v is UNDEF or v is None:
        return False
    t = type(v)
    if t is bool:
        return v
    if t is str:
        return v != ""
    if t is int or t is float:
        return v != 0
    if isinstance(v, list):
        if len(v) == 1:
            return boolize(v[0])
        return any(boolize(e) for e in v)
    if isinstance(v, dict):
        return len(v) > 0
    return False


def deep_equal(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k]) for k in a)
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return False
    return a == b


def to_reference(v):
    """A value as jsonata-python's function library expects it (undefined None, null NULL_VALUE)."""
    if v is UNDEF:
        return None
    if v is None:
        return NULL_VALUE
    if type(v) is Arr and None in v:
        # nulls the expression put into an array are null, not "undefined", to the reference library
        out = Arr(NULL_VALUE if x is None else x for x in v)
        out.cons = v.cons
        return out
    return v


def from_reference(v):
    if v is None:
        return UNDEF
    if v is NULL_VALUE:
        return None
    if isinstance(v, (list, dict)):
        recurse_nulls(v)
    return v


def to_output(v):
    """The final result: undefined becomes None (the interpreter returns None for both)."""
    return None if v is UNDEF else v


def kept_singleton(result):
    """A path result under `[]` (keep-array): always a sequence, flagged so it is never unwrapped."""
    if result is UNDEF:
        result = Seq()
    elif not isinstance(result, JList):
        result = Arr(result) if isinstance(result, list) else Seq((result,))
    if result.cons and not result.sequence:
        result = Seq((result,))
    result.keep_singleton = True
    return result
