"""control.emit: publish a business event (`shipment.departed`) that other deployed flows of the workspace receive
through their event.subscribe node. The runtime (runtime/business_events.py) stores the event and one run per
subscriber in one transaction before it enqueues them, once per step: a retried or replayed step gets its first
event back and starts nothing again. A chain of events between flows is refused past MAX_HOPS (a loop).

`out` carries the message on, with `emitted` (the event's id, key, hops, subscribers and their runs) added; the
event has left the flow, so an unwired `out` ends the message here by design."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import TECHNICAL, Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field
from nodes.expression import Expression

# lower dotted, two to six parts: subject first, then what happened (shipment.departed, order.credit_hold.released)
EVENT = r"^[a-z][a-z0-9_]{0,39}(\.[a-z][a-z0-9_]{0,39}){1,5}$"
MAX_KEY = 200
MAX_HOPS = 8  # events in a chain of flows each emitting what starts the next; the 9th is refused as a loop


class Config(Schema):
    """The event's name, its business key and its payload."""

    event = fields.String(required=True, validate=[validate.Length(max=200), validate.Regexp(
        EVENT, error="lower-case dotted, subject first, e.g. shipment.departed")], metadata={
        "title": "Event", "description": "Lower-case dotted name, e.g. shipment.departed; flows subscribe by it",
        "examples": ["shipment.departed"]})
    key = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000), metadata={
        "title": "Business key", "format": "jsonata",
        "description": "The event's business key, e.g. shipment.number; empty: the run's business key"})
    payload = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20_000), metadata={
        "title": "Payload", "format": "jsonata", "description": "What subscribers receive; empty: the message"})


SPEC = NodeSpec(
    type="control.emit", version=1, category="control", title="Emit event",
    description="Publishes a business event; each deployed flow subscribed to it starts a run with its payload.",
    inputs=(Port("in"),),
    outputs=(Port("out", "Published", optional=True), Port("error", "Not published")),
    config=Config, expressions=("key", "payload"), icon="broadcast", tags=("event", "publish", "pub/sub"),
    summary="{{event}}[ key {{key}}]",
)


@dataclass(frozen=True)
class Prepared:
    event: str
    key: Expression | None
    payload: Expression | None


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    return Prepared(config["event"], compile_field(config["key"], "key") if config.get("key") else None,
                    compile_field(config["payload"], "payload") if config.get("payload") else None)


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    key = None
    if prepared.key is not None:
        value = evaluate_field(prepared.key, message, ctx, "key")
        if value is None or value == "" or isinstance(value, (dict, list, bool)):
            raise NodeError("missing_business_key", "the event's business key is empty for this message", field="key")
        key = str(value)
        if len(key) > MAX_KEY:
            raise NodeError("key_too_long", f"the event's business key is {len(key)} characters, over {MAX_KEY}",
                            field="key")
    payload = message if prepared.payload is None else evaluate_field(prepared.payload, message, ctx, "payload")
    events = getattr(ctx, "business_events", None)
    if events is None:  # a context without the runtime's events (a preview): nothing may be published from it
        raise NodeError("no_events", "business events are published by deployed runs only", error_class=TECHNICAL)
    receipt = events.emit(prepared.event, key, payload)
    ctx.log(f"{'already emitted' if receipt.get('duplicate') else 'emitted'} {prepared.event} "
            f"#{receipt.get('id')} to {receipt.get('subscribers')} subscriber(s)")
    base = message if isinstance(message, dict) else {"message": message}
    yield "out", {**base, "emitted": receipt}
