"""The canonical shipment: what left the warehouse for an order, in parcels with tracking numbers."""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate


class ShippedLine(Schema):
    class Meta:
        unknown = INCLUDE

    line_no = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    sku = fields.String(required=True, validate=validate.Length(min=1), metadata={"class": "unknown_sku"})
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0),
                              metadata={"class": "invalid_quantity"})


class Parcel(Schema):
    class Meta:
        unknown = INCLUDE

    tracking_number = fields.String(required=True, validate=validate.Length(min=1),
                                    metadata={"class": "missing_tracking"})
    weight_kg = fields.Float(allow_none=True)
    lines = fields.List(fields.Nested(ShippedLine), load_default=list)


class Shipment(Schema):
    """A shipment confirmed by the warehouse; lines carry the quantity shipped this time."""

    VERSION = 1

    class Meta:
        unknown = INCLUDE

    schema_version = fields.Integer(load_default=VERSION, validate=validate.Equal(VERSION))
    shipment_id = fields.String(required=True, validate=validate.Length(min=1))
    order_number = fields.String(required=True, validate=validate.Length(min=1),
                                 metadata={"class": "unknown_order"})
    carrier = fields.String(allow_none=True, metadata={"class": "unknown_carrier"})
    shipped_at = fields.String(allow_none=True)
    complete = fields.Boolean(load_default=True)
    parcels = fields.List(fields.Nested(Parcel), required=True, validate=validate.Length(min=1),
                          metadata={"class": "missing_tracking"})
    lines = fields.List(fields.Nested(ShippedLine), required=True, validate=validate.Length(min=1))
