"""control.dead_letter: send a message to the exception workbench as a business exception (credit hold,
unknown SKU, missing ship-to) after the flow has done what it can, e.g. told the source system."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from flows.spec import NodeSpec, Port
from nodes.base import BUSINESS, Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field


class Config(Schema):
    """How the exception is classified and described, from the message."""

    business_class = fields.String(load_default="rejection.class", metadata={
        "title": "Business class", "format": "jsonata", "description": "e.g. 'credit_hold', or rejection.class"})
    message = fields.String(load_default="$join(rejection.problems.(field & ': ' & message), '; ')", metadata={
        "title": "Message", "format": "jsonata"})
    field = fields.String(load_default="rejection.field", metadata={"title": "Field path", "format": "jsonata"})


SPEC = NodeSpec(
    type="control.dead_letter", version=1, category="control", title="Exception",
    description="Ends the message as an open business exception (dead letter) with its class and field path.",
    inputs=(Port("in"),), outputs=(), config=Config, expressions=("business_class", "message", "field"),
    icon="alert-triangle", tags=("dead letter", "exception"),
    summary="class {{business_class}}",
)


def prepare(config: dict, env: PrepareEnv) -> dict:
    return {name: compile_field(config[name], name) for name in ("business_class", "message", "field")}


def run(prepared: dict, message: Any, ctx: Context) -> Emit:
    values = {name: _text(evaluate_field(expr, message, ctx, name)) for name, expr in prepared.items()}
    klass = values["business_class"] or "business_exception"
    problems = message.get("rejection", {}).get("problems") if isinstance(message, dict) else None
    raise NodeError(klass, values["message"] or klass.replace("_", " "), error_class=BUSINESS,
                    field=values["field"] or None, details={"problems": problems} if problems else None)
    yield  # a generator like every run function; never reached


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value)
