"""Closures for location paths: steps, member chains, wildcards and descendants.

Mirrors jsonata-python's evaluate_path / evaluate_step with the per-node dispatch resolved once at
compile time, plus a short road for the commonest path, a chain of members on objects (`a.b.c`).
"""
from __future__ import annotations


from nodes.expression.compiler.library import BUILTINS
from nodes.expression.compiler.objects import build_group
from nodes.expression.compiler.runtime import CLOCK_EVERY
from nodes.expression.compiler.selection import build_filter, build_sort
from nodes.expression.compiler.tuples import build_tuple_path
from nodes.expression.compiler.values import (UNDEF, JList, Seq, append, flatten, is_seq,
                                               kept_singleton, lookup, mangle)


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
    if node.tuple or any(s.tuple for s in steps):
        return build_tuple_path(node, build, _build_step)
    first_is_variable = steps[0].type == "variable"
    last = len(steps) - 1
    keep_singleton = node.keep_singleton_array
    keep_array = bool(node.keep_array)
    linear = None
    if not (keep_singleton or keep_array or node.group or steps[0].consarray
            or any(step.type == "sort" for step in steps)):
        linear = _build_linear_path(node, build)
        compiled = group = None
    else:
        compiled = [_build_step(step, i == 0, i == last, build) for i, step in enumerate(steps)]
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
            result = kept_singleton(result)
        if group is not None:
            return group(result if result is not UNDEF else Seq(), env)
        return mangle(result, keep_array)

    general = linear if linear is not None else path
    chain = _name_chain(node, build)
    if chain is None or keep_singleton or keep_array or group is not None:
        return general
    start, keys = chain
    if len(keys) == 1 and steps[0].type == "variable" and steps[0].value != "$":
        key, name, missing = keys[0], steps[0].value, _variable_default(steps[0].value)

        def variable_member(x, env):
            # `$v.key`: the variable's scope walk and the member access in one closure
            f = env
            while f is not None:
                scope = f.vars
                if name in scope:
                    v = scope[name]
                    break
                f = f.parent
            else:
                v = missing
            if type(v) is dict:
                r = v.get(key, UNDEF)
                if not isinstance(r, JList):
                    return r
            return general(x, env)
        return variable_member
    if len(keys) > 1 and steps[0].type == "variable" and steps[0].value != "$":
        name, missing = steps[0].value, _variable_default(steps[0].value)

        def variable_chain(x, env):
            # `$v.a.b`: the scope walk and the member chain in one closure
            f = env
            while f is not None:
                scope = f.vars
                if name in scope:
                    v = scope[name]
                    break
                f = f.parent
            else:
                v = missing
            for key in keys:
                if type(v) is not dict:
                    return general(x, env)
                v = v.get(key, UNDEF)
            if isinstance(v, JList):
                return general(x, env)
            return v
        return variable_chain
    if len(keys) == 1 and start is not None:
        key = keys[0]

        def member(x, env):
            v = start(x, env)
            if type(v) is dict:
                r = v.get(key, UNDEF)
                if not isinstance(r, JList):
                    return r
            return general(x, env)
        return member
    if len(keys) == 1:
        key = keys[0]

        def field(x, env):
            if type(x) is dict:
                r = x.get(key, UNDEF)
                if not isinstance(r, JList):
                    return r
            return general(x, env)
        return field

    def name_chain(x, env):
        # plain member access on objects, the common case; anything else takes the full path rules
        v = x if start is None else start(x, env)
        for key in keys:
            if type(v) is not dict:
                return general(x, env)
            v = v.get(key, UNDEF)
        if isinstance(v, JList):
            return general(x, env)
        return v
    return name_chain


def _variable_default(name):
    """What an unbound `$name` evaluates to: the built-in function of that name, else undefined."""
    return BUILTINS.get(name, UNDEF)


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


def _item_function(step, build):
    """What one step does to one input item, its filters included (None for sort steps)."""
    stages = [build_filter(s.expr, build) for s in (step.stages or ())]
    if step.type == "name" and _plain(step):
        key = step.value

        def member(item, env):
            if type(item) is dict:
                return item.get(key, UNDEF)
            return mangle(lookup(item, key))
        value = member
    else:
        value = build(step)
    if not stages:
        return value
    if len(stages) == 1:
        stage = stages[0]
        return lambda item, env: stage(value(item, env), env)

    def filtered(item, env):
        res = value(item, env)
        for f in stages:
            res = f(res, env)
        return res
    return filtered


def _build_step(step, first, last, build, one=None):
    """One step as a function of (input sequence, env) -> result sequence."""
    if step.type == "sort":
        stages = [build_filter(s.expr, build) for s in (step.stages or ())]
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
    one = one or _item_function(step, build)
    if step.type == "name" and _plain(step):
        key = step.value

        def name_step(seq, env):
            # `items.key`: the member read inline, no call per item; values that are no arrays are
            # already the step's output sequence (what _gathered would copy them into)
            gathered = Seq()
            arrays = False
            for n, item in enumerate(seq):
                if n & CLOCK_EVERY == CLOCK_EVERY:
                    env.state.check_time()
                res = item.get(key, UNDEF) if type(item) is dict else mangle(lookup(item, key))
                if res is not UNDEF:
                    gathered.append(res)
                    if isinstance(res, list):
                        arrays = True
            return _gathered(gathered, last) if arrays else gathered
        return name_step

    def map_step(seq, env):
        gathered = []
        for n, item in enumerate(seq):
            if n & CLOCK_EVERY == CLOCK_EVERY:
                env.state.check_time()  # long sequences need no lambda to run out of time
            res = one(item, env)
            if res is not UNDEF:
                gathered.append(res)
        return _gathered(gathered, last)
    return map_step


def _gathered(gathered, last):
    """A step's results as its output sequence: arrays flattened one level (built arrays kept whole), a
    single array from the last step returned as itself."""
    if last and len(gathered) == 1 and isinstance(gathered[0], list) and not is_seq(gathered[0]):
        return gathered[0]
    result = Seq()
    for res in gathered:
        if not isinstance(res, list) or (isinstance(res, JList) and res.cons):
            result.append(res)
        else:
            result.extend(res)
    return result


def _build_linear_path(node, build):
    """The path rules specialised for a single context item: while each step yields one value, no
    sequence is built; the first list switches to the sequence rules for the remaining steps."""
    steps = node.steps
    last = len(steps) - 1
    ones = [_item_function(step, build) for step in steps]
    manys = [_build_step(step, False, i == last, build, ones[i]) for i, step in enumerate(steps)]
    plan = list(zip(ones, manys, [i == last for i in range(len(steps))]))
    first_is_variable = steps[0].type == "variable"

    def linear(x, env):
        if isinstance(x, list) and not first_is_variable:
            cur, single = x, False
        else:
            cur, single = x, True
        for one, many, is_last in plan:
            if single:
                r = one(cur, env)
                if r is UNDEF:
                    return UNDEF
                if isinstance(r, list):
                    if isinstance(r, JList) and r.cons:
                        cur = r  # an array built in the path stays one item
                        continue
                    if is_last and not (isinstance(r, JList) and r.sequence):
                        return r
                    if not r:
                        return UNDEF
                    single = False
                cur = r
            else:
                cur = many(cur, env)
                if cur is UNDEF or not cur:
                    return UNDEF if cur is UNDEF or isinstance(cur, JList) and cur.sequence else cur
        if single:
            return cur
        return mangle(cur)
    return linear


