"""transform.map: reshape a message with one JSONata expression (the mapping a customer edits and previews).

A result of null or nothing is emitted as null by default; with `allow_empty: false` it is a
`mapping_empty` error instead, for mappings whose empty result means the source record was wrong.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field
from nodes.expression import Expression


class Config(Schema):
    """The mapping."""

    expression = fields.String(required=True, validate=validate.Length(min=1), metadata={
        "title": "Mapping", "format": "jsonata",
        "description": "JSONata from the input message to the output; flow params are $name, the run is $run"})
    # JSON true/false only: marshmallow would also take "yes"/"on", which the inspector's JSON Schema rejects
    allow_empty = fields.Boolean(truthy={True}, falsy={False}, load_default=True, metadata={
        "title": "Allow empty result", "description": "Off: a null or empty result is a mapping_empty error"})


SPEC = NodeSpec(
    type="transform.map", version=1, category="transform", title="Map",
    description="Transforms each message with a JSONata expression.",
    inputs=(Port("in"),), outputs=(Port("out"), Port("error", "Mapping failed")), config=Config,
    expressions=("expression",), preview="expression", icon="map", tags=("jsonata", "mapping"),
    summary="{{expression}}",
)


@dataclass(frozen=True)
class Prepared:
    expression: Expression
    allow_empty: bool


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    return Prepared(compile_field(config["expression"], "expression", "mapping_error"), config["allow_empty"])


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    result = evaluate_field(prepared.expression, message, ctx, "expression", "mapping_error")
    if result is None and not prepared.allow_empty:
        raise NodeError("mapping_empty", "the mapping produced no result", field="expression")
    yield "out", result
