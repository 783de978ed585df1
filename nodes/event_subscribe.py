"""event.subscribe: a flow started by a business event another flow of the workspace published (control.emit), by
its exact name or a `subject.*` pattern. Each event becomes one run of each deployed subscribing flow, stored with
the event (runtime/business_events.py); this node hands the run's message on: the event's payload, or with
`envelope` the event whole (id, name, key, hops, emitted_by, emitted_at, payload), e.g. for a `shipment.*`
subscriber that tells the events apart."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit

# an event name (nodes/control_emit.py EVENT), or a subject followed by .* for every event under it
PATTERN = r"^[a-z][a-z0-9_]{0,39}((\.[a-z][a-z0-9_]{0,39}){1,5}|(\.[a-z][a-z0-9_]{0,39}){0,4}\.\*)$"


def matches(pattern: str, name: str) -> bool:
    """Whether the event `name` is one `pattern` subscribes to: equal, or under the subject of a `subject.*`."""
    if pattern.endswith(".*"):
        return name.startswith(pattern[:-1])
    return name == pattern


class Config(Schema):
    """Which events start the flow, and what its message is."""

    event = fields.String(required=True, validate=[
        validate.Length(max=200),
        validate.Regexp(PATTERN, error="an event name such as shipment.departed, or shipment.* for every "
                                       "shipment event"),
    ], metadata={"title": "Event", "description": "The event's name, e.g. shipment.departed, or shipment.* for "
                 "every event whose name starts with shipment.", "examples": ["shipment.departed", "shipment.*"]})
    envelope = fields.Boolean(truthy={True}, falsy={False}, load_default=False, metadata={
        "title": "Whole event", "description": "On: the message is the event (id, name, key, hops, emitted_by, "
        "emitted_at, payload); off: its payload"})


SPEC = NodeSpec(
    type="event.subscribe", version=1, category="event", title="Subscribe",
    description="Starts a run for each business event of that name another flow of the workspace emits.",
    inputs=(), outputs=(Port("out", "Event"),), config=Config, icon="broadcast", tags=("trigger", "event", "pub/sub"),
    summary="on {{event}}",
)


def run(config: dict, message: Any, ctx: Context) -> Emit:
    yield "out", message
