"""control.discard: the flow says, on the canvas, that a message ends here on purpose (an unknown SKU
that a person handles elsewhere, a duplicate already done), so no output port is left to drop it silently."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit


class Config(Schema):
    """Why messages end here, for the next person who reads the flow or its runs."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=500), metadata={
        "title": "Reason", "description": "Why messages arriving here need no further step, e.g. "
        "'duplicates were already sent to the ERP'"})


SPEC = NodeSpec(
    type="control.discard", version=1, category="control", title="Discard",
    description="Ends the message here on purpose, with a reason; the run still succeeds.",
    inputs=(Port("in"),), outputs=(), config=Config, icon="stop", tags=("end", "drop"),
    summary="{{reason}}",
)


def run(config: dict, message: Any, ctx: Context) -> Emit:
    ctx.log(f"discarded: {config['reason']}")
    yield from ()
