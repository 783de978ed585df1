"""Where each target field of a `transform.map` expression sits in its text: the JSONata object constructor's
keys (top level and nested, `Lines.Item`) with the source text of their values, so a diff and a three-way merge can
speak per target field. Read from the parse tree (the keys), which the caller passes in as `parse(source) -> tree
or None` (nodes/expression_tree.py: flows parses nothing itself), and a small scanner over the text (the value
spans, which the tree does not keep); an expression that is not an object of literal keys gives None, and callers
fall back to the whole expression. Pure: no IO."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Parse = Callable[[str], Any]  # source -> its parse tree, or None when it is not JSONata

MAX_FIELDS = 500  # more target fields than this: treated as one whole expression
MAX_DEPTH = 8
MAX_TEXT = 200_000
NESTED = "{…}"  # stands for a nested object constructor in its parent's text


@dataclass(frozen=True)
class Field:
    key: str
    key_start: int  # the opening quote of the key
    value_start: int
    value_end: int  # exclusive, trailing blanks left out


def top_level(expression: Any, parse: Parse) -> tuple[list[Field], int] | None:
    """The top-level fields of an object-constructor expression and where its closing brace is, or None."""
    root = _root_object(_ast(expression, parse))
    if root is None:
        return None
    found = _fields(expression, root)
    if found is None:
        return None
    close = _value_end(expression, found[-1].value_start, closing=True) if found else expression.rindex("}")
    return found, close


def mapping_fields(expression: Any, parse: Parse) -> dict[str, str] | None:
    """Dotted target path -> the source text of its value; a value holding a nested object constructor is given
    with that object shown as `{…}`, and its own fields follow as `parent.child`. None when not an object."""
    root = _root_object(_ast(expression, parse))
    if root is None:
        return None
    out: dict[str, str] = {}
    if not _collect(expression, root, "", out, 0):
        return None
    return out


def _collect(text: str, obj, prefix: str, out: dict[str, str], depth: int) -> bool:
    found = _fields(text, obj)
    if found is None or depth > MAX_DEPTH:
        return False
    for f, (_, value) in zip(found, obj.lhs_object):
        path = f"{prefix}{f.key}"
        nested = _nested_object(value)
        shown = text[f.value_start:f.value_end]
        if nested is not None:
            inner = _fields(text, nested)
            if inner:
                start = inner[0].key_start
                open_at = text.rindex("{", f.value_start, start)
                close = _value_end(text, inner[-1].value_start, closing=True)
                shown = text[f.value_start:open_at] + NESTED + text[close + 1:f.value_end]
                if not _collect(text, nested, path + ".", out, depth + 1):
                    return False
        out[path] = " ".join(shown.split())
        if len(out) > MAX_FIELDS:
            return False
    return True


def _ast(expression: Any, parse: Parse):
    if not isinstance(expression, str) or len(expression) > MAX_TEXT:
        return None
    return parse(expression)


def _root_object(node):
    """The object the expression results in: itself, or the last expression of a `( …; { … } )` block."""
    if getattr(node, "type", None) == "block" and node.expressions:
        node = node.expressions[-1]
    return node if node is not None and _is_object(node) else None


def _is_object(node) -> bool:
    return getattr(node, "type", None) == "unary" and node.value == "{" and node.lhs_object is not None


def _nested_object(node):
    """The object constructor a value is or ends in (`order.lines.{ … }`), else None."""
    if _is_object(node):
        return node
    steps = getattr(node, "steps", None) if getattr(node, "type", None) == "path" else None
    if steps and _is_object(steps[-1]) and not getattr(steps[-1], "predicate", None):
        return steps[-1]
    return None


def _fields(text: str, obj) -> list[Field] | None:
    out = []
    for key, _ in obj.lhs_object:
        if getattr(key, "type", None) != "string" or not isinstance(key.value, str):
            return None
        end = key.position  # just past the key's closing quote
        if not 0 < end <= len(text) or text[end - 1] not in "'\"":
            return None
        start = _opening_quote(text, end - 1)
        colon = _skip_blank(text, end)
        if start is None or colon >= len(text) or text[colon] != ":":
            return None
        value_start = _skip_blank(text, colon + 1)
        value_end = _value_end(text, value_start)
        out.append(Field(key.value, start, value_start, value_end))
    return out


def _opening_quote(text: str, close: int) -> int | None:
    quote, i = text[close], close - 1
    while i >= 0:
        if text[i] == quote and (i == 0 or text[i - 1] != "\\"):
            return i
        i -= 1
    return None


def _skip_blank(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _value_end(text: str, i: int, closing: bool = False) -> int:
    """From a value's start: the end of the value (before the `,` or `}` that ends it), or with `closing` the
    index of the `}` that closes the enclosing object."""
    depth, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"`":
            i += 1
            while i < n and text[i] != c:
                i += 2 if text[i] == "\\" else 1
        elif c == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                if closing:
                    return i
                break
            depth -= 1
        elif c == "," and depth == 0 and not closing:
            break
        i += 1
    if closing:
        return i
    while i > 0 and text[i - 1].isspace():
        i -= 1
    return i
