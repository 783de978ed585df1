"""The `$name` variables an expression reads but does not bind itself: what the flow must supply as params
(or `$run`). flows/references.py checks them against the flow's declared params."""
from __future__ import annotations

import functools
import re

from nodes.expression.compiler.syntax import Node, parse
from nodes.expression.jsonata_internals import CHILD_FIELDS, LIST_FIELDS, PAIR_FIELDS, builtin_names

# the JSONata function library ($sum, $map, ...): names a call may use without any binding
BUILTINS = builtin_names()
# "$" alone is the context, "$$" the root input: neither is a variable the flow supplies
_CONTEXT = frozenset(("", "$"))
_DOLLAR_NAME = re.compile(r"\$([^\W\d]\w*)")  # every `$name` in the text, strings and comments included


def free_variables(source: str, declared: frozenset[str] = frozenset()) -> frozenset[str]:
    """The names `source` reads as `$name` and binds nowhere, other than built-ins and `declared`.

    Parsing costs about as much as compiling, and most expressions read no `$name` beyond the library and
    the flow's params: a scan of the text rules those out first, so only the rest are parsed."""
    if not (set(_DOLLAR_NAME.findall(source)) - BUILTINS - declared):
        return frozenset()
    return _free(source) - declared


@functools.lru_cache(maxsize=16384)
def _free(source: str) -> frozenset[str]:
    """Names read as `$name` and bound nowhere in `source`; empty for an expression that does not parse
    (its syntax error is flows.graph's to report). A name bound anywhere in the expression (`$x := ...`,
    a lambda parameter, `@$x`, `#$i`) counts as bound everywhere: no false alarms, at the price of
    missing a use outside the binding's scope."""
    try:
        ast = parse(source)
    except Exception:  # noqa: BLE001 - any parse failure means "not checked here"
        return frozenset()
    used: set[str] = set()
    bound: set[str] = set()
    _walk(ast, used, bound, set())
    return frozenset(used - bound - BUILTINS - _CONTEXT)


def _walk(node, used: set[str], bound: set[str], seen: set[int]) -> None:
    stack = [node]
    while stack:  # iterative: a deeply nested expression must not exhaust the Python stack here
        node = stack.pop()
        if not isinstance(node, Node) or id(node) in seen:
            continue
        seen.add(id(node))
        if node.type == "variable" and isinstance(node.value, str):
            used.add(node.value)
        if node.type == "bind" and isinstance(getattr(node.lhs, "value", None), str):
            bound.add(node.lhs.value)
        if node.type == "lambda":
            bound.update(a.value for a in node.arguments or () if isinstance(getattr(a, "value", None), str))
        for attr in ("focus", "index"):  # path steps binding @$x and #$i
            if isinstance(getattr(node, attr, None), str):
                bound.add(getattr(node, attr))
        stack.extend(getattr(node, name) for name in CHILD_FIELDS)
        for name in LIST_FIELDS:
            stack.extend(getattr(node, name) or ())
        for name in PAIR_FIELDS:
            for pair in getattr(node, name) or ():
                stack.extend(pair)
