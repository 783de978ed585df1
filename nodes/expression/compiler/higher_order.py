"""$map, $filter and $reduce over a compiled lambda: the per-item loop without the reference's
argument conversions. Anything else (a built-in as the function, null input) goes to the reference."""
from __future__ import annotations

from nodes.expression.compiler.runtime import TICK_MASK, Frame, Lambda, Repetition, TailCall, arity, bounce
from nodes.expression.compiler.values import DELEGATE as _DELEGATE
from nodes.expression.compiler.values import UNDEF, Seq, boolize
from nodes.expression.jsonata_internals import JException


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


def _direct(fn, n, arr, keep):
    """The loop of $map (keep=False: results) or $filter (keep=True: items the lambda accepts) for a
    lambda of one or two parameters without a signature, called with as many arguments: each call's
    scope is built in place, what `Lambda.repeated()` does per call without the call around it."""
    body, env, ctx, st = fn.body, fn.env, fn.ctx, fn.env.state
    first = fn.params[0]
    second = fn.params[1] if n == 2 else None
    out = Seq()
    with Repetition(fn):
        for i, v in enumerate(arr):
            st.ticks += 1
            if not st.ticks & TICK_MASK:
                st.check_time()
            r = body(ctx, Frame(env, st, {first: v} if second is None else {first: v, second: i}))
            if type(r) is TailCall:
                r = bounce(r, st, UNDEF)
            if keep:
                if boolize(r):
                    out.append(v)
            elif r is not UNDEF:
                out.append(r)
    return out


def _is_direct(fn, n) -> bool:
    return fn.lambda_signature is None and n in (1, 2) and len(fn.params) == n


def hof_map(args, ctx):
    if len(args) == 2 and type(args[1]) is Lambda:
        arr, fn = _items(args[0]), args[1]
        if arr is UNDEF or arr is _DELEGATE:
            return arr
        n = arity(fn)
        if _is_direct(fn, n):
            return _direct(fn, n, arr, False)
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
        if _is_direct(fn, n):
            return _direct(fn, n, arr, True)
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
