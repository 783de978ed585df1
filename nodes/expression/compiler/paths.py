"""Closures for location paths: steps, predicates and filters, order-by, group-by, wildcards.

Mirrors jsonata-python's evaluate_path / evaluate_step / evaluate_filter / evaluate_group_expression
with the per-node dispatch resolved once at compile time.
"""
from __future__ import annotations

import functools

from jsonata.jexception import JException

from nodes.expression.compiler.syntax import Unsupported
from nodes.expression.compiler.values import (UNDEF, Arr, JList, Seq, append, boolize, flatten,
                                               is_number, is_seq, lookup, mangle)


def build_filter(pred_node, build):
    """A predicate `[...]` as a function of (value, env) -> Seq, like evaluate_filter."""
    if pred_node.type == "number":
        index = int(pred_node.value)

        def by_index(v, env):
            out = Seq()
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
        if not isinstance(v, list):
            v = (v,)
        n = len(v)
        for index, item in enumerate(v):
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
    return by_predicate


def build_sort(node, build):
    """`^(term, >term)`: a stable sort by the terms, errors as the reference comparator raises them."""
    terms = [(build(t.expression), t.descending) for t in node.terms]
    pos = node.position

    def compare(a, b, env):
        for term, descending in terms:
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
        return Arr(sorted(v, key=functools.cmp_to_key(lambda a, b: compare(a, b, env))))
    return sort


def build_group(pairs, pos, build):
    """An object constructor `{k: v}` (or group-by `path{k: v}`) applied to its input."""
    built = [(build(k), build(v)) for k, v in pairs]
    single = [(k, v, i) for i, (k, v) in enumerate(built)]
    literal_keys = [k.value for k, _ in pairs if k.type == "string"]
    constant = len(literal_keys) == len(pairs) and len(set(literal_keys)) == len(pairs)
    fields = [(key, vf) for key, (_, vf) in zip(literal_keys, built)] if constant else None

    def group(inp, env):
        if fields is not None and not isinstance(inp, list):
            # literal, distinct keys on one context item: the shape of nearly every mapping
            result = {}
            for key, vf in fields:
                v = vf(inp, env)
                if v is not UNDEF:
                    result[key] = v
            return result
        if not isinstance(inp, list):
            # the common case: one context item; values are evaluated against it
            result = {}
            owner = {}
            for kf, vf, i in single:
                key = kf(inp, env)
                if key is UNDEF:
                    continue
                if type(key) is not str:
                    raise JException("T1003", pos, key)
                if key in owner:
                    if owner[key] != i:
                        raise JException("D1009", pos, key)
                    continue
                owner[key] = i
                result[key] = vf
            for key, vf in result.items():
                result[key] = vf(inp, env)
            return {k: v for k, v in result.items() if v is not UNDEF}
        items = inp if inp else [UNDEF]
        groups = {}
        for item in items:
            for kf, vf, i in single:
                key = kf(item, env)
                if key is UNDEF:
                    continue
                if type(key) is not str:
                    raise JException("T1003", pos, key)
                if key in groups:
                    if groups[key][1] != i:
                        raise JException("D1009", pos, key)
                    groups[key][0] = append(groups[key][0], item)
                else:
                    groups[key] = [item, i]
        result = {}
        for key, (data, i) in groups.items():
            r = built[i][1](data, env)
            if r is not UNDEF:
                result[key] = r
        return result
    return group


def wildcard(v, env=None):
    out = Seq()
    if isinstance(v, JList) and v.outer_wrapper and v:
        v = v[0]
    if isinstance(v, dict):
        values = v.values()
    elif isinstance(v, list):
        values = v
    else:
        return out
    for value in values:
        if isinstance(value, list):
            out = append(out, flatten(value))
        else:
            out.append(value)
    return out


def descendants(v, env=None):
    out = Seq()
    if v is not UNDEF:
        _descend(v, out)
    return out


def _descend(v, out):
    if not isinstance(v, list):
        out.append(v)
    if isinstance(v, list):
        for item in v:
            _descend(item, out)
    elif isinstance(v, dict):
        for item in v.values():
            _descend(item, out)


def build_path(node, build):
    """A location path: each step maps over the previous step's sequence, flattening as it goes."""
    steps = node.steps
    if node.tuple or any(s.tuple or s.focus or s.index or s.ancestor for s in steps):
        raise Unsupported("focus and index binding (@, #)")
    first_is_variable = steps[0].type == "variable"
    last = len(steps) - 1
    compiled = [_build_step(step, i == 0, i == last, build) for i, step in enumerate(steps)]
    keep_singleton = node.keep_singleton_array
    keep_array = bool(node.keep_array)
    group = build_group(node.group.lhs_object, node.group.position, build) if node.group else None

    def path(x, env):
        if isinstance(x, list) and not first_is_variable:
            seq = x
        else:
            seq = Seq((x,))
        result = UNDEF
        for step in compiled:
            result = step(seq, env)
            if result is UNDEF or not result:
                break
            seq = result
        if keep_singleton:
            if result is UNDEF:
                result = Seq()
            elif not isinstance(result, JList):
                result = Arr(result) if isinstance(result, list) else Seq((result,))
            if result.cons and not result.sequence:
                result = Seq((result,))
            result.keep_singleton = True
        if group is not None:
            return group(result if result is not UNDEF else Seq(), env)
        return mangle(result, keep_array)

    chain = _name_chain(node, build)
    if chain is None or keep_singleton or keep_array or group is not None:
        return path
    start, keys = chain
    if len(keys) == 1 and start is not None:
        key = keys[0]

        def member(x, env):
            v = start(x, env)
            if type(v) is dict:
                r = v.get(key, UNDEF)
                if not isinstance(r, JList):
                    return r
            return path(x, env)
        return member
    if len(keys) == 1:
        key = keys[0]

        def field(x, env):
            if type(x) is dict:
                r = x.get(key, UNDEF)
                if not isinstance(r, JList):
                    return r
            return path(x, env)
        return field

    def name_chain(x, env):
        # plain member access on objects, the common case; anything else takes the full path rules
        v = x if start is None else start(x, env)
        for key in keys:
            if type(v) is not dict:
                return path(x, env)
            v = v.get(key, UNDEF)
        if isinstance(v, JList):
            return path(x, env)
        return v
    return name_chain


def _plain(step) -> bool:
    return not (step.predicate or step.stages or step.group or step.keep_array or step.consarray)


def _name_chain(node, build):
    """(first-step closure or None, member names) when the path is `a.b.c` or `$v.b.c`, else None."""
    steps = node.steps
    if not all(_plain(s) for s in steps):
        return None
    first = steps[0]
    if first.type == "variable" and first.value not in ("",) and len(steps) > 1:
        rest = steps[1:]
        start = build(first)
    elif first.type == "name":
        rest = steps
        start = None
    else:
        return None
    if not all(s.type == "name" for s in rest):
        return None
    return start, [s.value for s in rest]


def _build_step(step, first, last, build):
    """One step as a function of (input sequence, env) -> result sequence."""
    stages = [build_filter(s.expr, build) for s in (step.stages or ())]
    if step.type == "sort":
        sort = build_sort(step, build)

        def sort_step(seq, env):
            result = sort(seq, env)
            for stage in stages:
                result = stage(result, env)
            return result
        return sort_step
    if first and step.consarray:
        cons = build(step)
        return lambda seq, env: cons(seq, env)
    if step.type == "name" and _plain(step) and not stages:
        key = step.value

        def value(item, env):
            if type(item) is dict:
                return item.get(key, UNDEF)
            return mangle(lookup(item, key))
    else:
        value = build(step)

    def map_step(seq, env):
        if len(seq) == 1:
            # one input item, the usual case inside a mapping: no gathering needed
            res = value(seq[0], env)
            for stage in stages:
                res = stage(res, env)
            if res is UNDEF:
                return UNDEF
            if not isinstance(res, list):
                return Seq((res,))
            if isinstance(res, JList):
                if res.cons:
                    return Seq((res,))
                if res.sequence:
                    return Seq(res)
            return res if last else Seq(res)
        gathered = []
        for item in seq:
            res = value(item, env)
            for stage in stages:
                res = stage(res, env)
            if res is not UNDEF:
                gathered.append(res)
        if last and len(gathered) == 1 and isinstance(gathered[0], list) and not is_seq(gathered[0]):
            return gathered[0]
        result = Seq()
        for res in gathered:
            if not isinstance(res, list) or (isinstance(res, JList) and res.cons):
                result.append(res)
            else:
                result.extend(res)
        return result
    return map_step
