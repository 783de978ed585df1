"""Closures for selecting from a sequence: predicates and filters (`[...]`) and order-by (`^(...)`).

Both work on plain sequences and on tuple streams (where each item carries its bound variables).
"""
from __future__ import annotations

import functools

from nodes.expression.compiler.objects import tuple_frame
from nodes.expression.compiler.runtime import CLOCK_EVERY
from nodes.expression.compiler.values import UNDEF, Arr, JList, Seq, boolize, is_number
from nodes.expression.jsonata_internals import JException


def build_filter(pred_node, build):
    """A predicate `[...]` as a function of (value, env) -> Seq, like evaluate_filter."""
    if pred_node.type == "number":
        index = int(pred_node.value)

        def by_index(v, env):
            out = Seq()
            if isinstance(v, JList) and v.tuple_stream:
                out.tuple_stream = True
            if v is UNDEF:
                return out
            if not isinstance(v, list):
                v = (v,)
            i = index + len(v) if index < 0 else index
            if 0 <= i < len(v):
                item = v[i]
                if isinstance(item, list):
                    return item
                out.append(item)
            return out
        return by_index

    pred = build(pred_node)

    def by_predicate(v, env):
        out = Seq()
        if v is UNDEF:
            return out
        tuples = isinstance(v, JList) and v.tuple_stream
        if tuples:
            out.tuple_stream = True
        if not isinstance(v, list):
            v = (v,)
        n = len(v)
        for index, item in enumerate(v):
            if not index & CLOCK_EVERY:
                env.state.check_time()
            if tuples:
                r = pred(item["@"], tuple_frame(env, item))
            else:
                r = pred(item, env)
            if is_number(r):
                r = (r,)
            if isinstance(r, (list, tuple)) and r and all(is_number(x) for x in r):
                for ires in r:
                    ii = int(ires)
                    if ii < 0:
                        ii += n
                    if ii == index:
                        out.append(item)
            elif isinstance(r, list) and not r:
                # an empty array of numbers selects nothing, as the reference's all() on [] does
                continue
            elif boolize(r):
                out.append(item)
        return out
    if not _always_boolean(pred_node):
        return by_predicate

    def by_test(v, env):
        # a comparison or boolean test gives True, False or undefined, never an index: no number checks
        if v is UNDEF or not isinstance(v, list) or (isinstance(v, JList) and v.tuple_stream):
            return by_predicate(v, env)
        out = Seq()
        state = env.state
        for index, item in enumerate(v):
            if index & CLOCK_EVERY == CLOCK_EVERY:
                state.check_time()  # every 1,024 items: a short sequence costs no clock read
            if pred(item, env) is True:
                out.append(item)
        return out
    return by_test


_TESTS = {"=", "!=", "<", "<=", ">", ">=", "and", "or", "in"}


def _always_boolean(node) -> bool:
    """Whether a predicate's value is always True, False or undefined (never a number or an array)."""
    return (node.type == "binary" and node.value in _TESTS and not node.predicate
            and not getattr(node, "group", None) and not node.keep_array)


def build_sort(node, build):
    """`^(term, >term)`: a stable sort by the terms, errors as the reference comparator raises them."""
    terms = [(build(t.expression), t.descending) for t in node.terms]
    pos = node.position

    def compare(a, b, env, tuples):
        for term, descending in terms:
            if tuples:
                aa = term(a["@"], tuple_frame(env, a))
                bb = term(b["@"], tuple_frame(env, b))
            else:
                aa = term(a, env)
                bb = term(b, env)
            if aa is UNDEF:
                if bb is UNDEF:
                    continue
                return 1
            if bb is UNDEF:
                return -1
            na, nb = is_number(aa), is_number(bb)
            if not (na or type(aa) is str) or not (nb or type(bb) is str):
                raise JException("T2008", pos, aa, bb)
            if na != nb:
                raise JException("T2007", pos, aa, bb)
            if aa == bb:
                continue
            comp = -1 if aa < bb else 1
            return -comp if descending else comp
        return 0

    def sort(v, env):
        if v is UNDEF:
            return UNDEF
        if len(v) <= 1:
            return v
        tuples = isinstance(v, JList) and v.tuple_stream
        return Arr(sorted(v, key=functools.cmp_to_key(lambda a, b: compare(a, b, env, tuples))))
    return sort
