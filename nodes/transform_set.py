"""transform.set: set one field of a message, by path, to the value of a JSONata expression; the rest of the
message passes unchanged, so a small enrichment needs no mapping that repeats every other field.

Objects missing on the path are created; the message a node received is never changed (other branches may
hold it), only the objects on the path are copied.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field
from nodes.expression import Expression

PATH = r"^[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*){0,19}$"  # object keys only, at most 20 deep


class Config(Schema):
    """Which field, and the expression that gives its value."""

    path = fields.String(required=True, validate=[validate.Length(max=200), validate.Regexp(
        PATH, error="a dotted path of field names, e.g. erp.status")], metadata={
        "title": "Field", "description": "Dotted path of the field to set, e.g. erp.status; missing objects on "
        "the way are created"})
    value = fields.String(required=True, validate=validate.Length(min=1), metadata={
        "title": "Value", "format": "jsonata", "description": "JSONata over the message, e.g. $uppercase(status); "
        "flow params are $name; a result of null or nothing sets null"})


SPEC = NodeSpec(
    type="transform.set", version=1, category="transform", title="Set field",
    description="Sets one field of the message to the value of a JSONata expression; the rest passes unchanged.",
    inputs=(Port("in"),), outputs=(Port("out"), Port("error", "Value failed")), config=Config,
    expressions=("value",), icon="edit", tags=("jsonata", "enrich"),
    summary="{{path}} = {{value}}",
)


@dataclass(frozen=True)
class Prepared:
    path: tuple[str, ...]
    value: Expression


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    return Prepared(tuple(config["path"].split(".")), compile_field(config["value"], "value"))


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    if not isinstance(message, dict):
        raise NodeError("not_an_object", f"the message is {_kind(message)}, not an object: no field to set",
                        field="path")
    value = evaluate_field(prepared.value, message, ctx, "value")
    out = dict(message)
    here = out
    for depth, key in enumerate(prepared.path[:-1]):
        child = here.get(key)
        if child is not None and not isinstance(child, dict):
            at = ".".join(prepared.path[:depth + 1])
            raise NodeError("path_blocked", f"{at} is {_kind(child)}, not an object", field="path")
        here[key] = child = dict(child or {})
        here = child
    here[prepared.path[-1]] = value
    yield "out", out


def _kind(value: Any) -> str:
    return {list: "a list", str: "a text", bool: "a boolean", type(None): "null"}.get(type(value), "a number")
