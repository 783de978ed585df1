"""control.dedupe: the idempotent consumer. The first message with a business key passes; later ones
(a redelivered webhook, an order posted twice) go to `duplicate`, which must be wired (or end in a control.discard)."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field
from nodes.expression import Expression


class Config(Schema):
    """The business key that identifies a message, and the ledger scope it is unique in."""

    key = fields.String(required=True, validate=validate.Length(min=1), metadata={
        "title": "Business key", "format": "jsonata", "description": "e.g. number"})
    scope = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{1,150}$"),
                          metadata={"title": "Scope", "description": "Ledger scope; empty: this flow and node. "
                                    "Share one scope to dedupe across flows"})


SPEC = NodeSpec(
    type="control.dedupe", version=1, category="control", title="Dedupe",
    description="Passes each business key once (ledger with a unique key); repeats go to duplicate.",
    inputs=(Port("in"),), outputs=(Port("out", "First"), Port("duplicate", "Seen before")), config=Config,
    expressions=("key",), icon="copy", tags=("idempotent", "ledger"),
    summary="key {{key}}[ in {{scope}}]",
)


def prepare(config: dict, env: PrepareEnv) -> tuple[Expression, str | None]:
    return compile_field(config["key"], "key"), config.get("scope")


def run(prepared: tuple[Expression, str | None], message: Any, ctx: Context) -> Emit:
    expr, scope = prepared
    key = evaluate_field(expr, message, ctx, "key")
    if key is None or isinstance(key, (dict, list)) or key == "":
        raise NodeError("missing_business_key", "the business key is empty for this message", field="key")
    first = ctx.ledger.claim(scope or f"{ctx.flow_id}:{ctx.node_id}", str(key), ctx.run_id)
    if first is None:
        yield "out", message
        return
    ctx.log(f"skipped: {key} is a duplicate of run {first}")
    base = message if isinstance(message, dict) else {"message": message}
    yield "duplicate", {**base, "duplicate_of": first}
