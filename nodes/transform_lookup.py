"""transform.lookup: enrich from a cross-reference table of the workspace (OMS SKU -> ERP item, carrier
codes, units of measure). Keys with no row are rejected with their field paths, kept, or defaulted."""
from __future__ import annotations

import copy
from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port, Reference
from nodes.base import Context, Emit
from nodes.transform_conform import rejection

DOTTED = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


class Config(Schema):
    """Which table, which field holds the key and where the value goes."""

    table = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{1,100}$"),
                          metadata={"title": "Table", "format": "lookup-table"})
    items = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(DOTTED), metadata={
        "title": "Items", "description": "Dotted path of a list to enrich item by item, e.g. lines; "
        "empty: the message itself"})
    key = fields.String(required=True, validate=validate.Regexp(DOTTED),
                        metadata={"title": "Key field", "description": "e.g. sku"})
    target = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-Za-z_]\w*$"),
                           metadata={"title": "Target field", "description": "Where the value goes; empty: "
                                     "replaces the key field"})
    missing = fields.String(load_default="reject", validate=validate.OneOf(("reject", "keep", "default")), metadata={
        "title": "When missing", "description": "reject: to the not_found port; keep: leave the item "
        "as it is; default: the default value"})
    default = fields.Raw(load_default=None, allow_none=True, metadata={"title": "Default"})
    business_class = fields.String(load_default="unknown_key", validate=validate.Regexp(r"^[a-z_]{1,64}$"),
                                   metadata={"title": "Business class", "description": "e.g. unknown_sku"})


SPEC = NodeSpec(
    type="transform.lookup", version=1, category="transform", title="Lookup",
    description="Replaces or adds values from a cross-reference table; unknown keys go to not_found.",
    inputs=(Port("in"),),
    outputs=(Port("out", "Enriched"), Port("not_found", "Unknown key", unused_when=("missing", ("keep", "default")))),
    config=Config, icon="table", tags=("enrich", "xref"),
    # an absent table and an empty one are the same to the store: harmless when unknown keys are kept or defaulted
    references={"table": Reference("lookup", lenient_when=("missing", ("keep", "default")))},
    summary="{{key}} via {{table}}[ into {{target}}]",
)


def run(config: dict, message: Any, ctx: Context) -> Emit:
    out = _copied(message, {})
    key_path = config["key"].split(".")
    target = config["target"]
    problems = []
    for path, item in _items(out, config["items"]):
        if not isinstance(item, dict):
            problems.append({"field": path, "class": config["business_class"], "message": "not an object"})
            continue
        key = _get(item, key_path)
        where = f"{path}.{config['key']}" if path else config["key"]
        value = ctx.lookup(config["table"], str(key)) if key is not None else None
        if value is None:
            if config["missing"] == "reject":
                problems.append({"field": where, "class": config["business_class"],
                                 "message": f"{key!r} is not in lookup table {config['table']!r}"})
                continue
            if config["missing"] == "keep":
                continue  # the item stays as it is
            value = config["default"]
        _set(item, [target] if target else key_path, value)
    if problems:
        yield "not_found", rejection(message, config["table"], problems)
        return
    yield "out", out


def _copied(value: Any, memo: dict[int, Any]) -> Any:
    """copy.deepcopy for the dicts and lists a message is made of (what is shared stays shared, as in deepcopy's copy),
    without deepcopy's dispatch per value: three lookups an order release copied the order three times."""
    kind = type(value)
    if kind is dict or kind is list:
        found = memo.get(id(value))
        if found is not None:
            return found
        if kind is dict:
            copied = memo[id(value)] = {}
            for k, v in value.items():
                copied[k] = v if type(v) in _ATOMS else _copied(v, memo)
        else:
            copied = memo[id(value)] = []
            copied.extend(v if type(v) in _ATOMS else _copied(v, memo) for v in value)
        return copied
    return value if kind in _ATOMS else copy.deepcopy(value, memo)


_ATOMS = frozenset({str, int, float, bool, type(None)})


def _items(message: Any, items: str | None):
    if not items:
        yield "", message
        return
    found = _get(message, items.split("."))
    for i, item in enumerate(found if isinstance(found, list) else []):
        yield f"{items}[{i}]", item


def _get(data: Any, steps: list[str]) -> Any:
    for step in steps:
        if not isinstance(data, dict):
            return None
        data = data.get(step)
    return data


def _set(data: dict, steps: list[str], value: Any) -> None:
    for step in steps[:-1]:
        data = data.setdefault(step, {})
    data[steps[-1]] = value
