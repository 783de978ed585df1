"""Mapping -> readable JSONata: one target field per line, nested targets as nested objects, element-wise arrays
as `"lines": [order.lines.{ ... }]`. Each rule kind has exactly one written form, the one flows/mapping_parse.py
reads back. Expects a mapping without problems (flows.mapping_model.problems); no IO."""
from __future__ import annotations

import json
import re
from typing import Any

from flows.mapping_model import group, normalize

INDENT = "  "
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORDS = frozenset({"and", "or", "in", "true", "false", "null", "function"})  # JSONata reads these as operators


def compile_mapping(mapping: dict) -> str:
    """The JSONata of `mapping` (normalized first, so the text depends on the mapping alone)."""
    m = normalize(mapping)
    tree: dict = {}
    for item in m["fields"]:
        _place(tree, item["target"], ("rule", item["rule"]))
    for array in m["arrays"]:
        inner: dict = {}
        for item in group(array["fields"]):
            _place(inner, item["target"], ("rule", item["rule"]))
        _place(tree, array["target"], ("array", array["source"], inner))
    return _object(tree, 0)


def _place(tree: dict, target: str, leaf: tuple) -> None:
    *parents, last = target.split(".")
    for segment in parents:
        tree = tree.setdefault(segment, {})
    tree[last] = leaf


def _object(tree: dict, depth: int) -> str:
    if not tree:
        return "{}"
    pad = INDENT * (depth + 1)
    lines = [f"{pad}{_literal(key)}: {_value(value, depth + 1)}" for key, value in tree.items()]
    return "{\n" + ",\n".join(lines) + "\n" + INDENT * depth + "}"


def _value(value: Any, depth: int) -> str:
    if isinstance(value, dict):
        return _object(value, depth)
    if value[0] == "array":
        return f"[{path(value[1])}.{_object(value[2], depth)}]"
    return rule(value[1])


def rule(r: dict) -> str:
    """The JSONata of one rule."""
    kind = r["kind"]
    if kind == "field":
        return path(r["path"])
    if kind == "constant":
        return _literal(r["value"])
    if kind == "concat":
        parts = [_operand(p) for p in r["parts"]]
        joiner = f" & {_literal(r['separator'])} & " if r["separator"] else " & "
        return joiner.join(parts)
    if kind == "default":
        return f"{path(r['path'])} ? {path(r['path'])} : {_literal(r['value'])}"
    if kind == "date":
        source = path(r["path"]) + (f", {_literal(r['from'])}" if r.get("from") is not None else "")
        # guarded: a missing, null or empty date leaves the field out instead of failing $toMillis
        return f"{path(r['path'])} ? $fromMillis($toMillis({source}), {_literal(r['format'])})"
    if kind == "number":
        text = f"$number({path(r['path'])})"
        if r.get("multiply", 1) != 1:
            text += f" * {_literal(r['multiply'])}"
        return text if r.get("round") is None else f"$round({text}, {r['round']})"
    if kind == "unit":
        factor = f", {_literal(r['factor'])}" if r.get("factor") is not None else ""
        return f"$convertUnit({path(r['path'])}, {_literal(r['from'])}, {_literal(r['to'])}{factor})"
    if kind == "lookup":
        default = f", {_literal(r['default'])}" if r.get("default") is not None else ""
        return f"$lookup({_literal(r['table'])}, {path(r['path'])}{default})"
    if kind == "if":
        return (f"{path(r['path'])} = {_literal(r['equals'])} ? {_operand(r['then'])} : {_operand(r['else'])}")
    if kind == "sum":
        return f"$sum({path(r['array'])}.$number({path(r['path'])}))"
    raise ValueError(f"unknown rule kind {kind!r}")


def _operand(r: dict) -> str:
    """A rule inside another: parenthesized unless it is one path or literal, so it reads (and parses) as one."""
    text = rule(r)
    return text if r["kind"] in ("field", "constant") else f"({text})"


def path(dotted: str) -> str:
    return ".".join(s if _BARE.fullmatch(s) and s not in _WORDS else f"`{s}`" for s in dotted.split("."))


def _literal(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)  # JSONata has one number type: 2.0 is written 2, as its parser reads it back
    return json.dumps(value, ensure_ascii=False, allow_nan=False)
