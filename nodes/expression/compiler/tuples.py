"""Paths that bind the focus, index or parent (`items@$i`, `items#$n`, `%`): evaluated as a stream
of binding tuples.

Mirrors jsonata-python's evaluate_tuple_step / evaluate_stages: each tuple holds the context item
under "@" plus the variables bound so far, and later steps see those variables.
"""
from __future__ import annotations

from nodes.expression.compiler.objects import build_group, tuple_frame
from nodes.expression.compiler.selection import build_filter, build_sort
from nodes.expression.compiler.values import UNDEF, JList, Seq, kept_singleton, mangle


def _stream(items=()):
    out = Seq(items)
    out.tuple_stream = True
    return out


def _build_stages(step, build):
    stages = []
    for stage in step.stages or ():
        if stage.type == "index":
            stages.append(("index", stage.value))
        else:
            stages.append(("filter", build_filter(stage.expr, build)))

    def run(result, env):
        for kind, what in stages:
            if kind == "filter":
                result = what(result, env)
            else:
                for n, binding in enumerate(result):
                    binding[what] = n
        return result
    return run


def _build_tuple_step(step, build):
    stages = _build_stages(step, build)
    focus, index = step.focus, step.index
    ancestor = step.ancestor.label if step.ancestor is not None else None
    if step.type == "sort":
        sort = build_sort(step, build)

        def sort_step(seq, bindings, env):
            if bindings is not None:
                result = sort(bindings, env)
            else:
                result = _stream({"@": item, index: n} for n, item in enumerate(sort(seq, env)))
            return stages(result, env)
        return sort_step
    value = build(step)

    def tuple_step(seq, bindings, env):
        result = _stream()
        if bindings is None:
            bindings = [{"@": item} for item in seq]
        for binding in bindings:
            res = value(binding["@"], tuple_frame(env, binding))
            if res is UNDEF:
                continue
            items = res if isinstance(res, list) else (res,)
            nested = isinstance(res, JList) and res.tuple_stream
            for n, item in enumerate(items):
                t = dict(binding)
                if nested:
                    t.update(item)
                else:
                    if focus is not None:
                        t[focus] = item
                    else:
                        t["@"] = item
                    if index is not None:
                        t[index] = n
                    if ancestor is not None:
                        t[ancestor] = binding["@"]  # what `%` reads in later steps
                result.append(t)
        return stages(result, env)
    return tuple_step


def build_tuple_path(node, build, map_step):
    """A path with a focus or index binding; `map_step` builds the ordinary steps before the first."""
    steps = node.steps
    plan = []
    tuple_mode = False
    for i, step in enumerate(steps):
        tuple_mode = tuple_mode or bool(step.tuple)
        if i == 0 and step.consarray:
            plan.append(("cons", build(step), step.focus))
        elif tuple_mode:
            plan.append(("tuple", _build_tuple_step(step, build), step.focus))
        else:
            plan.append(("step", map_step(step, i == 0, i == len(steps) - 1, build), step.focus))
    first_is_variable = steps[0].type == "variable"
    carries_ancestry = bool(node.tuple)
    keep_singleton = node.keep_singleton_array
    keep_array = bool(node.keep_array)
    group = build_group(node.group.lhs_object, node.group.position, build) if node.group else None

    def tuple_path(x, env):
        seq = x if isinstance(x, list) and not first_is_variable else Seq((x,))
        result = UNDEF
        bindings = None
        streaming = False
        for kind, fn, focus in plan:
            if kind == "tuple":
                streaming = True
                bindings = fn(seq, bindings, env)
            else:
                result = fn(seq, env)
                if result is UNDEF or not result:
                    break
            if focus is None and not streaming:
                seq = result
        if streaming:
            # a path inside a parent-seeking step hands its whole binding stream on
            result = bindings if carries_ancestry else Seq(b["@"] for b in bindings)
        if keep_singleton:
            result = kept_singleton(result)
        if group is not None:
            source = bindings if streaming else result
            return group(source if source is not UNDEF else Seq(), env)
        return mangle(result, keep_array)
    return tuple_path
