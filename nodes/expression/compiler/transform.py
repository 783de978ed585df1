"""The transform operator `| pattern | update, delete |`: a function that returns a modified copy.

Mirrors jsonata-python's Transformer: clone the input (through JSON, as the reference does), then for
every match of the pattern merge in the update object and drop the deleted keys.
"""
from __future__ import annotations

from nodes.expression.compiler.values import UNDEF, from_reference, to_reference
from nodes.expression.errors import ExpressionError
from nodes.expression.jsonata_internals import JException, JFunction, Signature, function_clone

_SIGNATURE = "<(oa):o>"


class Transformer(JFunction):
    """The function value of `| pattern | update, delete |`, bound to the scope it was made in."""

    def __init__(self, pattern, update, delete, env, update_pos, delete_pos):
        self.function = None
        self.function_name = None
        self.signature = Signature(_SIGNATURE, "transform")
        self.pattern, self.update, self.delete = pattern, update, delete
        self.env = env
        self.update_pos, self.delete_pos = update_pos, delete_pos

    def call(self, input, args):
        return to_reference(self.compiled_impl([from_reference(a) for a in args], UNDEF, -1))

    def compiled_impl(self, args, ctx, pos):
        try:
            ref = self.signature.validate([to_reference(a) for a in args], to_reference(ctx))
        except JException as err:
            if err.location < 0:
                err.location = pos
            raise
        obj = from_reference(ref[0]) if ref else UNDEF
        if obj is UNDEF:
            return UNDEF
        result = from_reference(function_clone(to_reference(obj)))
        env = self.env
        matches = self.pattern(result, env)
        if matches is UNDEF:
            return result
        for match in matches if isinstance(matches, list) else (matches,):
            update = self.update(match, env)
            if update is not UNDEF:
                if not isinstance(update, dict):
                    raise JException("T2011", self.update_pos, update)
                if _contains(update, match):
                    # the update puts the matched object inside itself: the copy would be circular,
                    # which no JSON can carry (the interpreter fails on it as too deeply nested)
                    raise ExpressionError("budget_depth", "the update puts the matched object inside itself; the "
                                                   "result would be circular", position=self.update_pos)
                for key in update:
                    match[key] = update[key]
            if self.delete is not None:
                deletions = self.delete(match, env)
                if deletions is not UNDEF:
                    names = deletions if isinstance(deletions, list) else [deletions]
                    if not all(isinstance(n, str) for n in names):
                        raise JException("T2012", self.delete_pos, deletions)
                    for name in names:
                        if isinstance(match, dict):
                            match.pop(name, None)
        return result


def _contains(value, target) -> bool:
    """Whether `target` (by identity) is `value` or sits anywhere inside it."""
    stack, seen = [value], set()
    while stack:
        v = stack.pop()
        if v is target:
            return True
        if isinstance(v, (dict, list)) and id(v) not in seen:
            seen.add(id(v))
            stack.extend(v.values() if isinstance(v, dict) else v)
    return False


def build_transform(node, build):
    pattern = build(node.pattern)
    update = build(node.update)
    delete = build(node.delete) if node.delete is not None else None
    update_pos = node.update.position
    delete_pos = node.delete.position if node.delete is not None else -1
    return lambda x, env: Transformer(pattern, update, delete, env, update_pos, delete_pos)
