"""Canonical inventory: the level of one SKU at one location, and a reservation against it."""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate


class InventoryLevel(Schema):
    """Stock of one SKU at one location; available to promise = on hand - reserved - safety stock."""

    VERSION = 1

    class Meta:
        unknown = INCLUDE

    schema_version = fields.Integer(load_default=VERSION, validate=validate.Equal(VERSION))
    sku = fields.String(required=True, validate=validate.Length(min=1), metadata={"class": "unknown_sku"})
    location = fields.String(required=True, validate=validate.Length(min=1))
    on_hand = fields.Integer(required=True, strict=True, validate=validate.Range(min=0),
                             metadata={"class": "invalid_quantity"})
    reserved = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0),
                              metadata={"class": "invalid_quantity"})
    safety_stock = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0))
    available = fields.Integer(allow_none=True, strict=True)
    sequence = fields.Integer(allow_none=True, strict=True, metadata={"description": "Source event order"})
    as_of = fields.String(allow_none=True)


class Reservation(Schema):
    """Stock held for an order line."""

    VERSION = 1

    class Meta:
        unknown = INCLUDE

    schema_version = fields.Integer(load_default=VERSION, validate=validate.Equal(VERSION))
    sku = fields.String(required=True, validate=validate.Length(min=1), metadata={"class": "unknown_sku"})
    location = fields.String(required=True, validate=validate.Length(min=1))
    order_number = fields.String(required=True, validate=validate.Length(min=1))
    line_no = fields.Integer(strict=True, allow_none=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1),
                              metadata={"class": "invalid_quantity"})
