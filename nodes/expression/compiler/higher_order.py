"""$map, $filter and $reduce over a compiled lambda: the per-item loop without the reference's
argument conversions. Anything else (a built-in as the function, null input) goes to the reference."""
from __future__ import annotations

from jsonata.jexception import JException

from nodes.expression.compiler.runtime import Lambda, Repetition, arity
from nodes.expression.compiler.values import DELEGATE as _DELEGATE
from nodes.expression.compiler.values import UNDEF, Seq, boolize


def _hof_args(fn, n, value, index, whole):
    if n == 1:
        return [value]
    if n == 2:
        return [value, index]
    return [value, index, whole]


def _items(arr):
    """The array a higher-order function walks: UNDEF stays UNDEF, null and objects go to the
    reference (its signature coercion decides), a single value is a one-item array."""
    if arr is UNDEF or arr is None or isinstance(arr, dict):
        return UNDEF if arr is UNDEF else _DELEGATE
    return arr if isinstance(arr, list) else [arr]


def hof_map(args, ctx):
    if len(args) == 2 and type(args[1]) is Lambda:
        arr, fn = _items(args[0]), args[1]
        if arr is UNDEF or arr is _DELEGATE:
            return arr
        n = arity(fn)
        out = Seq()
        call = fn.repeated()
        with Repetition(fn):
            for i, v in enumerate(arr):
                r = call(_hof_args(fn, n, v, i, arr))
                if r is not UNDEF:
                    out.append(r)
        return out
    return _DELEGATE


def hof_filter(args, ctx):
    if len(args) == 2 and type(args[1]) is Lambda:
        arr, fn = _items(args[0]), args[1]
        if arr is UNDEF or arr is _DELEGATE:
            return arr
        n = arity(fn)
        out = Seq()
        call = fn.repeated()
        with Repetition(fn):
            for i, v in enumerate(arr):
                if boolize(call(_hof_args(fn, n, v, i, arr))):
                    out.append(v)
        return out
    return _DELEGATE


def hof_reduce(args, ctx):
    if len(args) in (2, 3) and type(args[1]) is Lambda:
        arr, fn = _items(args[0]), args[1]
        init = args[2] if len(args) == 3 else UNDEF
        if arr is UNDEF or arr is _DELEGATE:
            return arr
        n = arity(fn)
        if n < 2:
            raise JException("D3050", 1)
        if init is UNDEF and arr:
            result, i = arr[0], 1
        else:
            result, i = init, 0
        while i < len(arr):
            call = [result, arr[i]]
            if n >= 3:
                call.append(i)
            if n >= 4:
                call.append(arr)
            result = fn.invoke(call)
            i += 1
        return result
    return _DELEGATE
