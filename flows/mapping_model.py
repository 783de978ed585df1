"""The mapping model (issue 13): what the no-code mapper edits, checked and put in one canonical form. A node keeps
only its JSONata; the mapping is what flows/mapping_parse.py reads back out of it and flows/mapping_compile.py
writes, so both directions share the rule kinds, their keys and the unit table here. No IO."""
from __future__ import annotations

import math
import re
from typing import Any

VERSION = 1
# rule kind -> its keys besides "kind", with the defaults a missing optional key takes (REQUIRED: none)
REQUIRED = object()
KINDS: dict[str, dict[str, Any]] = {
    "field": {"path": REQUIRED},
    "constant": {"value": REQUIRED},
    "concat": {"parts": REQUIRED, "separator": ""},
    "default": {"path": REQUIRED, "value": REQUIRED},
    "date": {"path": REQUIRED, "format": REQUIRED, "from": None},
    "number": {"path": REQUIRED, "multiply": 1, "round": None},
    "unit": {"path": REQUIRED, "from": REQUIRED, "to": REQUIRED, "factor": None},
    "lookup": {"table": REQUIRED, "path": REQUIRED, "default": None},
    "if": {"path": REQUIRED, "equals": REQUIRED, "then": REQUIRED, "else": REQUIRED},
    "sum": {"array": REQUIRED, "path": REQUIRED},
}
# unit -> (dimension, size in the dimension's base unit); "case" has no fixed size: the rule's factor says how
# many each a case holds
UNITS: dict[str, tuple[str, float | None]] = {
    "kg": ("mass", 1.0), "g": ("mass", 0.001), "lb": ("mass", 0.45359237), "oz": ("mass", 0.028349523125),
    "m": ("length", 1.0), "cm": ("length", 0.01), "in": ("length", 0.0254), "ft": ("length", 0.3048),
    "each": ("count", 1.0), "dozen": ("count", 12.0), "case": ("count", None),
}
MAX_FIELDS = 500  # target fields of one mapping, arrays' fields included
MAX_ARRAYS = 50
MAX_PARTS = 20  # parts of one concat
MAX_DEPTH = 6  # rules inside rules (concat parts, if branches)
MAX_TEXT = 1000  # characters of a path, target, picture, table name or constant string
_SEGMENT = re.compile(r"[^.`]+")


def convert(value: Any, source: str, target: str, factor: Any = None) -> Any:
    """`value` in unit `source` expressed in unit `target` (the $convertUnit a mapping calls); None for no value.
    A conversion to or from "case" needs `factor`, each per case. ValueError for units that do not convert."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"$convertUnit: {value!r} is not a number")
    size = {}
    for unit in (source, target):
        if unit not in UNITS:
            raise ValueError(f"$convertUnit: unknown unit {unit!r} (known: {', '.join(UNITS)})")
        dimension, size[unit] = UNITS[unit]
        if size[unit] is None:
            if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor <= 0:
                raise ValueError(f"$convertUnit: converting {unit!r} needs a factor (each per case)")
            size[unit] = float(factor)
    if UNITS[source][0] != UNITS[target][0]:
        raise ValueError(f"$convertUnit: {source!r} does not convert to {target!r}")
    result = value * size[source] / size[target]
    return round(result, 9) if isinstance(result, float) else result


def problems(mapping: Any) -> list[dict]:
    """What is wrong with `mapping`, each {"field": "fields[2].rule.parts[0].path", "message": ...}; empty when
    it compiles."""
    found: list[dict] = []
    if not isinstance(mapping, dict):
        return [{"field": "mapping", "message": "a mapping is an object with fields and arrays"}]
    unknown = set(mapping) - {"version", "fields", "arrays"}
    if unknown:
        found.append({"field": sorted(unknown)[0], "message": "a mapping has version, fields and arrays only"})
    if mapping.get("version", VERSION) != VERSION:
        found.append({"field": "version", "message": f"this installation reads mapping version {VERSION}"})
    fields, arrays = mapping.get("fields", []), mapping.get("arrays", [])
    if not isinstance(arrays, list):
        return found + [{"field": "arrays", "message": "arrays is a list"}]
    if len(arrays) > MAX_ARRAYS:
        found.append({"field": "arrays", "message": f"at most {MAX_ARRAYS} arrays"})
    total = len(fields) if isinstance(fields, list) else 0
    targets = _field_problems(fields, "fields", found)
    for i, array in enumerate(arrays[:MAX_ARRAYS]):
        where = f"arrays[{i}]"
        if not isinstance(array, dict) or set(array) - {"target", "source", "fields"}:
            found.append({"field": where, "message": "an array is {target, source, fields}"})
            continue
        _target(array.get("target"), f"{where}.target", found)
        _path(array.get("source"), f"{where}.source", found)
        targets.append((array.get("target"), f"{where}.target"))
        inner = array.get("fields", [])
        total += len(inner) if isinstance(inner, list) else 0
        _conflicts(_field_problems(inner, f"{where}.fields", found), found)
    if total > MAX_FIELDS:
        found.append({"field": "fields", "message": f"at most {MAX_FIELDS} target fields"})
    _conflicts(targets, found)
    return found


def _field_problems(fields: Any, where: str, found: list[dict]) -> list[tuple[Any, str]]:
    if not isinstance(fields, list):
        found.append({"field": where, "message": "fields is a list"})
        return []
    targets = []
    for i, item in enumerate(fields[:MAX_FIELDS]):
        here = f"{where}[{i}]"
        if not isinstance(item, dict) or set(item) != {"target", "rule"}:
            found.append({"field": here, "message": "a field is {target, rule}"})
            continue
        _target(item["target"], f"{here}.target", found)
        targets.append((item["target"], f"{here}.target"))
        _rule(item["rule"], f"{here}.rule", found, 0)
    return targets


def _conflicts(targets: list[tuple[Any, str]], found: list[dict]) -> None:
    """Two fields of one target, or a target inside another's value (a.b beside a), cannot both be written."""
    seen: dict[tuple, str] = {}
    for target, where in targets:
        if not isinstance(target, str) or not target:
            continue
        parts = tuple(target.split("."))
        for other, other_where in seen.items():
            shorter, longer = sorted((parts, other), key=len)
            if longer[:len(shorter)] == shorter:
                found.append({"field": where, "message": f"{target!r} collides with {'.'.join(other)!r} "
                                                         f"({other_where})"})
                break
        seen[parts] = where


def _rule(rule: Any, where: str, found: list[dict], depth: int) -> None:
    if depth > MAX_DEPTH:
        found.append({"field": where, "message": f"rules nest at most {MAX_DEPTH} deep"})
        return
    if not isinstance(rule, dict) or not isinstance(rule.get("kind"), str) or rule["kind"] not in KINDS:
        found.append({"field": f"{where}.kind", "message": f"a rule's kind is one of {', '.join(KINDS)}"})
        return
    keys = KINDS[rule["kind"]]
    extra = set(rule) - set(keys) - {"kind"}
    missing = [k for k, default in keys.items() if default is REQUIRED and k not in rule]
    if extra or missing:
        key = sorted(extra)[0] if extra else missing[0]
        found.append({"field": f"{where}.{key}", "message": f"a {rule['kind']} rule has {', '.join(keys)}"})
        return
    kind = rule["kind"]
    for key in ("path", "array"):
        if key in keys:
            _path(rule[key], f"{where}.{key}", found)
    for key in ("value", "equals"):
        if key in keys:
            _scalar(rule[key], f"{where}.{key}", found)
    if kind == "lookup":
        _scalar(rule.get("default"), f"{where}.default", found)
        _text(rule["table"], f"{where}.table", found)
    if kind == "date":
        _text(rule["format"], f"{where}.format", found)
        if rule.get("from") is not None:
            _text(rule["from"], f"{where}.from", found)
    if kind == "number":
        if not _is_number(rule.get("multiply", 1)):
            found.append({"field": f"{where}.multiply", "message": "multiply is a number"})
        if rule.get("round") is not None and (not isinstance(rule["round"], int) or isinstance(rule["round"], bool)
                                              or not 0 <= rule["round"] <= 10):
            found.append({"field": f"{where}.round", "message": "round is null or a whole number of decimals 0-10"})
    if kind == "unit":
        _units(rule, where, found)
    if kind == "concat":
        parts, separator = rule["parts"], rule.get("separator", "")
        if not isinstance(parts, list) or not 2 <= len(parts) <= MAX_PARTS:
            found.append({"field": f"{where}.parts", "message": f"a concat has 2 to {MAX_PARTS} parts"})
            return
        if not isinstance(separator, str) or len(separator) > MAX_TEXT:
            found.append({"field": f"{where}.separator", "message": "separator is a string"})
        for i, part in enumerate(parts):
            _rule(part, f"{where}.parts[{i}]", found, depth + 1)
    if kind == "if":
        _rule(rule["then"], f"{where}.then", found, depth + 1)
        _rule(rule["else"], f"{where}.else", found, depth + 1)


def _units(rule: dict, where: str, found: list[dict]) -> None:
    for key in ("from", "to"):
        if not isinstance(rule[key], str) or rule[key] not in UNITS:
            found.append({"field": f"{where}.{key}", "message": f"a unit is one of {', '.join(UNITS)}"})
            return
    if UNITS[rule["from"]][0] != UNITS[rule["to"]][0]:
        found.append({"field": f"{where}.to", "message": f"{rule['from']} does not convert to {rule['to']}"})
    factor = rule.get("factor")
    needs = "case" in (rule["from"], rule["to"]) and rule["from"] != rule["to"]
    if needs and not (_is_number(factor) and factor > 0):
        found.append({"field": f"{where}.factor", "message": "a conversion of cases needs the each per case"})
    elif factor is not None and not needs:
        found.append({"field": f"{where}.factor", "message": "a factor is for conversions of cases only"})


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _scalar(value: Any, where: str, found: list[dict]) -> None:
    if value is None or isinstance(value, bool) or _is_number(value):
        return
    if not isinstance(value, str):
        found.append({"field": where, "message": "a constant is a string, number, true, false or null"})
    elif len(value) > MAX_TEXT:
        found.append({"field": where, "message": f"at most {MAX_TEXT} characters"})


def _text(value: Any, where: str, found: list[dict]) -> None:
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        found.append({"field": where, "message": f"a non-empty string of at most {MAX_TEXT} characters"})


def _path(value: Any, where: str, found: list[dict]) -> None:
    """A source path: dotted names, none empty, none with a backtick."""
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT \
            or not all(_SEGMENT.fullmatch(s) for s in value.split(".")):
        found.append({"field": where, "message": "a path is dotted field names (a.b.c) without backticks"})


def _target(value: Any, where: str, found: list[dict]) -> None:
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT or "" in value.split("."):
        found.append({"field": where, "message": "a target is a dotted field path (shipTo.city)"})


def normalize(mapping: dict) -> dict:
    """The canonical form of a mapping without problems: every key of each rule present, fields in the order
    the compiled object writes them (grouped by their first target segment, as nested objects group them),
    a concat whose parts alternate with one string constant written with that separator. What parse returns."""
    fields = [_field(f) for f in mapping.get("fields") or []]
    arrays = [{"target": a["target"], "source": a["source"],
               "fields": group([_field(f) for f in a.get("fields") or []])} for a in mapping.get("arrays") or []]
    both = group(fields + arrays)  # arrays sit among the fields' nested objects, as the compiled object has them
    return {"version": VERSION, "fields": [x for x in both if "rule" in x],
            "arrays": [x for x in both if "source" in x]}


def group(items: list[dict]) -> list[dict]:
    """Items (with a dotted "target") in the order of a depth-first walk of the object their targets build."""
    tree: dict = {}
    for item in items:
        node = tree
        for segment in item["target"].split(".")[:-1]:
            node = node.setdefault(segment, {})
        node[item["target"].rsplit(".", 1)[-1]] = item
    out: list[dict] = []

    def walk(node: dict) -> None:
        for value in node.values():
            if "target" in value and isinstance(value.get("target"), str) and ("rule" in value or "source" in value):
                out.append(value)
            else:
                walk(value)
    walk(tree)
    return out


def _field(item: dict) -> dict:
    return {"target": item["target"], "rule": normalize_rule(item["rule"])}


def normalize_rule(rule: dict) -> dict:
    keys = KINDS[rule["kind"]]
    out = {"kind": rule["kind"], **{k: rule.get(k, default) for k, default in keys.items()}}
    if out["kind"] == "concat":
        out["parts"] = [normalize_rule(p) for p in out["parts"]]
        parts = out["parts"]
        seps = parts[1::2]
        if out["separator"] == "" and len(parts) % 2 == 1 and seps and all(
                p["kind"] == "constant" and isinstance(p["value"], str) and p == seps[0] for p in seps):
            out = {"kind": "concat", "parts": parts[0::2], "separator": seps[0]["value"]}
    if out["kind"] == "if":
        out["then"], out["else"] = normalize_rule(out["then"]), normalize_rule(out["else"])
    return out
