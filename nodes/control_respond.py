"""control.respond: answer the caller of a `respond: sync` webhook with a status and a JSONata body."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit, PrepareEnv, compile_field, evaluate_field
from nodes.expression import Expression


class Config(Schema):
    """The reply."""

    status = fields.Integer(strict=True, load_default=200, validate=validate.Range(100, 599),
                            metadata={"title": "Status"})
    body = fields.String(load_default=None, allow_none=True, metadata={
        "title": "Body", "format": "jsonata", "description": "JSONata of the reply; empty: the message itself"})


SPEC = NodeSpec(
    type="control.respond", version=1, category="control", title="Respond",
    description="Replies to the caller of a sync webhook.",
    inputs=(Port("in"),), outputs=(), config=Config, expressions=("body",), icon="reply",
    tags=("http",),
    summary="status {{status}}[: {{body}}]",
)


@dataclass(frozen=True)
class Prepared:
    status: int
    body: Expression | None


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    body = compile_field(config["body"], "body") if config.get("body") else None
    return Prepared(config["status"], body)


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    value = evaluate_field(prepared.body, message, ctx, "body") if prepared.body else message
    ctx.respond(prepared.status, value)
    yield from ()
