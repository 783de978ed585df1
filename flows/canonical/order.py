"""The canonical sales order: header, ship-to, requested date and lines (SKU, quantity, unit, price)."""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

NonEmpty = validate.Length(min=1)


class Address(Schema):
    """Where the goods go."""

    class Meta:
        unknown = INCLUDE

    name = fields.String(required=True, validate=NonEmpty)
    address1 = fields.String(required=True, validate=NonEmpty)
    address2 = fields.String(allow_none=True)
    city = fields.String(required=True, validate=NonEmpty)
    region = fields.String(allow_none=True)
    postal_code = fields.String(required=True, validate=NonEmpty)
    country = fields.String(required=True, validate=validate.Length(equal=2))


class OrderLine(Schema):
    class Meta:
        unknown = INCLUDE

    line_no = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    sku = fields.String(required=True, validate=NonEmpty, metadata={"class": "unknown_sku"})
    quantity = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False),
                             metadata={"class": "invalid_quantity"})
    uom = fields.String(load_default="EA", validate=NonEmpty, metadata={"class": "invalid_uom"})
    price = fields.Float(allow_none=True, validate=validate.Range(min=0), metadata={"class": "invalid_price"})


class Order(Schema):
    """A customer's order as every flow sees it, whichever system it came from."""

    VERSION = 1

    class Meta:
        unknown = INCLUDE

    schema_version = fields.Integer(load_default=VERSION, validate=validate.Equal(VERSION))
    number = fields.String(required=True, validate=NonEmpty, metadata={"class": "missing_order_number"})
    reference = fields.String(allow_none=True)
    customer_no = fields.String(required=True, validate=NonEmpty, metadata={"class": "unknown_customer"})
    ordered_at = fields.String(allow_none=True)
    requested_date = fields.Date(allow_none=True, metadata={"class": "invalid_date"})
    currency = fields.String(load_default="USD", validate=validate.Length(equal=3))
    ship_to = fields.Nested(Address, required=True, metadata={"class": "missing_ship_to"})
    lines = fields.List(fields.Nested(OrderLine), required=True, validate=NonEmpty,
                        metadata={"class": "invalid_lines"})
