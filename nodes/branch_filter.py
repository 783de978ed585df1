"""branch.filter: pass a message on when its JSONata condition is true; otherwise drop it.

A dropped message yields nothing; the runtime counts drops per node.
"""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit, PrepareEnv, compile_field, evaluate_field
from nodes.branch_choice import truthy
from nodes.expression import Expression


class Config(Schema):
    """The condition a message must meet."""

    when = fields.String(required=True, validate=validate.Length(min=1), metadata={"title": "When", "format": "jsonata",
                                                  "description": "JSONata condition, e.g. status = 'open'"})


SPEC = NodeSpec(
    type="branch.filter", version=1, category="branch", title="Filter",
    description="Passes on messages that match the condition and drops the others.",
    inputs=(Port("in"),), outputs=(Port("out", "Matched"), Port("error", "Condition failed")), config=Config,
    expressions=("when",), icon="filter",
    summary="when {{when}}",
)


def prepare(config: dict, env: PrepareEnv) -> Expression:
    return compile_field(config["when"], "when")


def run(prepared: Expression, message: Any, ctx: Context) -> Emit:
    if truthy(evaluate_field(prepared, message, ctx, "when")):
        yield "out", message
