"""JSONata -> mapping: the mapper's view of an expression, read from its parsed tree (the AST of
nodes/expression, passed in as a value: flows parses nothing itself). Everything flows/mapping_compile.py
writes reads back; anything else is `Unrepresentable`, with a note and the position, so the mapper shows the
expression read-only instead of dropping what it cannot show. No IO."""
from __future__ import annotations

from typing import Any

from flows.mapping_model import KINDS, VERSION, normalize, problems


class Unrepresentable(Exception):
    """The expression holds something the mapping model cannot show; `note` says what, `position` where."""

    def __init__(self, note: str, position: int | None = None):
        super().__init__(note)
        self.note, self.position = note, position


_PLAIN_FLAGS = ("keep_array", "keep_singleton_array", "consarray", "tuple", "focus", "index", "label", "group",
                "predicate", "stages")


def mapping_of(ast: Any, source: str) -> dict:
    """The mapping `ast` (parsed from `source`) stands for; raises Unrepresentable."""
    if has_comment(source):
        raise Unrepresentable("the expression has comments, which the mapper would drop")
    if not _is(ast, "unary", "{"):
        raise Unrepresentable("the mapper shows an expression that builds one object ({ \"field\": ... })",
                              _pos(ast))
    fields: list[dict] = []
    arrays: list[dict] = []
    _object(ast, "", fields, arrays, in_array=False)
    mapping = {"version": VERSION, "fields": fields, "arrays": arrays}
    found = problems(mapping)
    if found:
        raise Unrepresentable(f"{found[0]['field']}: {found[0]['message']}")
    return normalize(mapping)


def _object(node: Any, prefix: str, fields: list, arrays: list, in_array: bool) -> None:
    pairs = getattr(node, "lhs_object", None) or []
    if _flags(node) or (not pairs and prefix):
        raise Unrepresentable("an empty or filtered object", _pos(node))
    seen = set()
    for key, value in pairs:
        if getattr(key, "type", None) != "string" or not isinstance(key.value, str) or not key.value:
            raise Unrepresentable("an object key that is not a plain string", _pos(key))
        if "." in key.value or key.value in seen:
            raise Unrepresentable(f"the key {key.value!r} (a dot in it, or twice in one object)", _pos(key))
        seen.add(key.value)
        target = f"{prefix}{key.value}"
        if _is(value, "unary", "{"):
            _object(value, target + ".", fields, arrays, in_array)
        elif _is(value, "unary", "[") and not in_array and _array(value) is not None:
            source, inner = _array(value)
            inner_fields: list[dict] = []
            _object(inner, "", inner_fields, [], in_array=True)
            arrays.append({"target": target, "source": source, "fields": inner_fields})
        else:
            fields.append({"target": target, "rule": rule_of(value)})


def _array(node: Any) -> tuple[str, Any] | None:
    """[source.{ ... }]: the source path and the element's object."""
    items = getattr(node, "expressions", None) or []
    if _flags(node) or len(items) != 1 or getattr(items[0], "type", None) != "path":
        return None
    steps = items[0].steps or []
    if _flags(items[0]) or len(steps) < 2 or not _is(steps[-1], "unary", "{"):
        return None
    source = _names(steps[:-1])
    return (source, steps[-1]) if source is not None else None


def rule_of(node: Any) -> dict:
    """The rule one value expression stands for."""
    node = _unwrap(node)
    kind = getattr(node, "type", None)
    dotted = path_of(node)
    if dotted is not None:
        return {"kind": "field", "path": dotted}
    if _is_literal(node):
        return {"kind": "constant", "value": _literal(node)}
    if kind == "binary" and node.value == "&":
        return _concat(node)
    if kind == "condition":
        return _condition(node)
    if kind == "binary" and node.value == "*":
        return _number(node)
    if kind == "function":
        return _function(node)
    raise Unrepresentable(f"{_describe(node)} is beyond what the mapper shows", _pos(node))


def _concat(node: Any) -> dict:
    operands: list = []
    stack = [node]
    while stack:  # the left-nested chain a & b & c, in order
        n = stack.pop()
        if getattr(n, "type", None) == "binary" and n.value == "&" and not _flags(n):
            stack += [n.rhs, n.lhs]
        else:
            operands.append(n)
    parts = [_part(o) for o in operands]
    seps = parts[1::2]
    if len(parts) % 2 == 1 and len(parts) >= 3 and all(
            p["kind"] == "constant" and isinstance(p["value"], str) and p == seps[0] for p in seps):
        return {"kind": "concat", "parts": parts[0::2], "separator": seps[0]["value"]}
    return {"kind": "concat", "parts": parts, "separator": ""}


def _part(node: Any) -> dict:
    """A rule inside another: a path or literal as it is, anything else in parentheses (as the compiler writes)."""
    if path_of(node) is not None or _is_literal(node):
        return rule_of(node)
    if getattr(node, "type", None) != "block":
        raise Unrepresentable(f"{_describe(node)} inside a rule, without parentheses", _pos(node))
    return rule_of(node)


def _condition(node: Any) -> dict:
    test, then, other = node.condition, node.then, node.else_
    tested = path_of(test)
    if other is None and tested is not None and getattr(then, "type", None) == "function" \
            and _is(then.procedure, "variable", "fromMillis"):
        date = _function(then)
        if date["kind"] == "date" and date["path"] == tested:
            return date
    if other is None:
        raise Unrepresentable("a condition without an else branch", _pos(node))
    if tested is not None and path_of(then) == tested and _is_literal(other):
        return {"kind": "default", "path": tested, "value": _literal(other)}
    if getattr(test, "type", None) == "binary" and test.value == "=" and path_of(test.lhs) is not None \
            and _is_literal(test.rhs) and not _flags(test):
        return {"kind": "if", "path": path_of(test.lhs), "equals": _literal(test.rhs), "then": _part(then),
                "else": _part(other)}
    raise Unrepresentable("a condition other than \"field = value ? A : B\" or \"field ? field : default\"",
                          _pos(node))


def _number(node: Any) -> dict:
    """$number(p), $number(p) * m, $round(either, r)."""
    if getattr(node, "type", None) == "binary" and node.value == "*" and not _flags(node):
        inner = _number(node.lhs)
        if inner["multiply"] != 1 or not _is_literal(node.rhs) or not _numeric(_literal(node.rhs)):
            raise Unrepresentable("a product other than $number(field) * factor", _pos(node))
        return {**inner, "multiply": _literal(node.rhs)}
    args = _call(node, "number", 1, 1)
    if args is None or path_of(args[0]) is None:
        raise Unrepresentable("a number rule other than $number(field)", _pos(node))
    return {"kind": "number", "path": path_of(args[0]), "multiply": 1, "round": None}


def _function(node: Any) -> dict:
    name = getattr(node.procedure, "value", None) if _is(node.procedure, "variable") else None
    args = list(node.arguments or [])
    if _flags(node) or name is None:
        raise Unrepresentable(f"{_describe(node)} is beyond what the mapper shows", _pos(node))
    if name == "number":
        return _number(node)
    if name == "round" and len(args) == 2 and _is_literal(args[1]) and isinstance(_literal(args[1]), int) \
            and not isinstance(_literal(args[1]), bool):
        inner = _number(args[0])
        if inner["round"] is None:
            return {**inner, "round": _literal(args[1])}
    if name == "fromMillis" and len(args) == 2 and _is_literal(args[1]) and isinstance(_literal(args[1]), str):
        inner = _call(args[0], "toMillis", 1, 2)
        if inner and path_of(inner[0]) is not None and (len(inner) == 1 or _string(inner[1])):
            return {"kind": "date", "path": path_of(inner[0]), "format": _literal(args[1]),
                    "from": _literal(inner[1]) if len(inner) == 2 else None}
    if name == "convertUnit" and len(args) in (3, 4) and path_of(args[0]) is not None and _string(args[1]) \
            and _string(args[2]) and (len(args) == 3 or (_is_literal(args[3]) and _numeric(_literal(args[3])))):
        return {"kind": "unit", "path": path_of(args[0]), "from": _literal(args[1]), "to": _literal(args[2]),
                "factor": _literal(args[3]) if len(args) == 4 else None}
    if name == "lookup" and len(args) in (2, 3) and _string(args[0]) and path_of(args[1]) is not None \
            and (len(args) == 2 or (_is_literal(args[2]) and _literal(args[2]) is not None)):
        return {"kind": "lookup", "table": _literal(args[0]), "path": path_of(args[1]),
                "default": _literal(args[2]) if len(args) == 3 else None}
    if name == "sum" and len(args) == 1 and getattr(args[0], "type", None) == "path" and not _flags(args[0]):
        steps = args[0].steps or []
        last = _call(steps[-1], "number", 1, 1) if len(steps) >= 2 else None
        array = _names(steps[:-1]) if last else None
        if array is not None and path_of(last[0]) is not None:
            return {"kind": "sum", "array": array, "path": path_of(last[0])}
    raise Unrepresentable(f"${name}(...) in a form the mapper does not show", _pos(node))


def _call(node: Any, name: str, least: int, most: int) -> list | None:
    if getattr(node, "type", None) != "function" or _flags(node) or not _is(node.procedure, "variable", name):
        return None
    args = list(node.arguments or [])
    return args if least <= len(args) <= most else None


def path_of(node: Any) -> str | None:
    """The dotted path of a plain path (names only, no filter, no index), else None."""
    if getattr(node, "type", None) == "name" and not _flags(node):
        return node.value if isinstance(node.value, str) and "." not in node.value and node.value else None
    if getattr(node, "type", None) != "path" or _flags(node):
        return None
    return _names(node.steps or [])


def _names(steps: list) -> str | None:
    names = []
    for step in steps:
        if getattr(step, "type", None) != "name" or _flags(step) or not isinstance(step.value, str) \
                or not step.value or "." in step.value or "`" in step.value:
            return None
        names.append(step.value)
    return ".".join(names) if names else None


def _unwrap(node: Any) -> Any:
    while getattr(node, "type", None) == "block" and len(node.expressions or []) == 1 and not _flags(node):
        node = node.expressions[0]
    return node


def _is_literal(node: Any) -> bool:
    return getattr(node, "type", None) in ("string", "number", "value") and not _flags(node) \
        and (node.type != "value" or node.value in (None, True, False))


def _literal(node: Any) -> Any:
    return node.value


def _string(node: Any) -> bool:
    return _is_literal(node) and isinstance(node.value, str)


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is(node: Any, type_: str, value: Any = ...) -> bool:
    return getattr(node, "type", None) == type_ and (value is ... or getattr(node, "value", None) == value)


def _flags(node: Any) -> bool:
    return any(getattr(node, flag, None) for flag in _PLAIN_FLAGS)


def _pos(node: Any) -> int | None:
    position = getattr(node, "position", None)
    return position if isinstance(position, int) else None


def _describe(node: Any) -> str:
    kind = getattr(node, "type", "?")
    value = getattr(node, "value", None)
    if kind == "function" and _is(getattr(node, "procedure", None), "variable"):
        return f"${node.procedure.value}(...)"
    return f"{kind} {value!r}" if isinstance(value, str) else str(kind)


def has_comment(source: str) -> bool:
    """Whether `source` holds a /* comment */ outside its strings and `names`."""
    quote, i = None, 0
    while i < len(source):
        c = source[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        elif source.startswith("/*", i):
            return True
        i += 1
    return False


__all__ = ["KINDS", "Unrepresentable", "mapping_of", "rule_of", "path_of", "has_comment"]
