"""Bodies of /api/v1/events: business events between flows with their deliveries (designer/events_api.py)."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import MAX_ID, Body, Reply, time


class EventQuery(Body):
    name = fields.String(metadata={"description": "an event name, or subject.* for every event under it"})
    key = fields.String(validate=validate.Length(max=200), metadata={"description": "the event's business key"})
    before = fields.Integer(validate=validate.Range(1, MAX_ID), metadata={"description": "events older than this id "
                                                                                         "(the next page)"})
    limit = fields.Integer(validate=validate.Range(1, 500))


class EmittedBy(Reply):
    flow = fields.String(required=True)
    version = fields.Integer(required=True)
    run = fields.Integer(required=True)
    node = fields.String(required=True)


class Delivery(Reply):
    flow_id = fields.String(required=True)
    version = fields.Integer(required=True)
    node_id = fields.String(required=True)
    run_id = fields.Integer(required=True)
    status = fields.String(allow_none=True, metadata={"description": "the run's; null once it is pruned"})


class Event(Reply):
    id = fields.Integer(required=True)
    name = fields.String(required=True, metadata={"examples": ["shipment.departed"]})
    key = fields.String(allow_none=True)
    payload = fields.Raw(allow_none=True)
    hops = fields.Integer(required=True, metadata={"description": "1, or one more than the event that started "
                                                                  "the emitting run"})
    emitted_by = fields.Nested(EmittedBy, required=True)
    created_at = time()
    subscribers = fields.Integer(required=True)
    deliveries = fields.List(fields.Nested(Delivery), required=True)


class EventList(Reply):
    events = fields.List(fields.Nested(Event), required=True)
