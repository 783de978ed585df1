"""Closures for object constructors and group-by (`{k: v}`, `path{k: v}`), and tuple-stream scopes.

Mirrors jsonata-python's evaluate_group_expression; literal distinct keys on a single context item,
the shape of nearly every mapping, take a shorter road with the same result.
"""
from __future__ import annotations

from nodes.expression.compiler.runtime import Frame
from nodes.expression.compiler.values import UNDEF, JList, append
from nodes.expression.jsonata_internals import JException


def build_group(pairs, pos, build):
    """An object constructor `{k: v}` (or group-by `path{k: v}`) applied to its input."""
    built = [(build(k), build(v)) for k, v in pairs]
    single = [(k, v, i) for i, (k, v) in enumerate(built)]
    literal_keys = [k.value for k, _ in pairs if k.type == "string"]
    constant = len(literal_keys) == len(pairs) and len(set(literal_keys)) == len(pairs)
    fields = [(key, vf) for key, (_, vf) in zip(literal_keys, built)] if constant else None

    def group(inp, env):
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
        reduce = isinstance(inp, JList) and inp.tuple_stream
        items = inp if inp else [UNDEF]
        groups = {}
        for item in items:
            for kf, vf, i in single:
                key = kf(item["@"], tuple_frame(env, item)) if reduce else kf(item, env)
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
            if reduce:
                bound = reduce_tuples(data)
                context = bound.pop("@")
                r = built[i][1](context, tuple_frame(env, bound))
            else:
                r = built[i][1](data, env)
            if r is not UNDEF:
                result[key] = r
        return result
    if fields is not None:
        return _literal_object(fields, group)
    return group


def _literal_object(fields, general):
    """`{"a": x, "b": y}` with literal, distinct keys (the shape of nearly every mapping) as one
    generated function: on one context item each value is computed and kept unless undefined, in key
    order, with no loop or tuple unpacking per field; a sequence as input takes the general rules."""
    lines = ["def literal_object(inp, env):",
             "    if isinstance(inp, list):",
             "        return general(inp, env)",
             "    result = {}"]
    scope = {"general": general, "UNDEF": UNDEF}
    for i, (key, vf) in enumerate(fields):
        scope[f"f{i}"] = vf
        lines.append(f"    v = f{i}(inp, env)")
        lines.append("    if v is not UNDEF:")
        lines.append(f"        result[{key!r}] = v")
    lines.append("    return result")
    exec("\n".join(lines), scope)  # noqa: S102 (keys are written with repr, values are closures)
    return scope["literal_object"]


def tuple_frame(env, bindings):
    """The scope in which a tuple-stream item is evaluated: its focus/index variables bound."""
    frame = Frame(env, env.state)
    frame.vars.update(bindings)
    return frame


def reduce_tuples(stream):
    """Several tuples of one group merged into one: each variable's values appended together."""
    if not isinstance(stream, list):
        return dict(stream)
    result = dict(stream[0])
    for item in stream[1:]:
        for k, v in item.items():
            result[k] = append(result.get(k, UNDEF), v)
    return result
