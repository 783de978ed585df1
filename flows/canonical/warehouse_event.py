"""The canonical warehouse event: pick completed, short pick, replenishment, departed, proof of delivery."""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

KINDS = ("pick_completed", "short_pick", "replenishment", "departed", "proof_of_delivery")


class EventLine(Schema):
    class Meta:
        unknown = INCLUDE

    sku = fields.String(required=True, validate=validate.Length(min=1), metadata={"class": "unknown_sku"})
    quantity = fields.Integer(required=True, strict=True, metadata={"class": "invalid_quantity"})


class WarehouseEvent(Schema):
    """Something that happened in the warehouse to an order or a SKU."""

    VERSION = 1

    class Meta:
        unknown = INCLUDE

    schema_version = fields.Integer(load_default=VERSION, validate=validate.Equal(VERSION))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={"class": "unknown_event"})
    warehouse = fields.String(required=True, validate=validate.Length(min=1))
    occurred_at = fields.String(required=True, validate=validate.Length(min=1))
    sequence = fields.Integer(allow_none=True, strict=True)
    order_number = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(EventLine), load_default=list)
    signed_by = fields.String(allow_none=True, metadata={"description": "Proof of delivery"})
