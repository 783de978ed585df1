"""The canonical return (RMA): lines with a reason and, once received, a condition (restock or scrap)."""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

CONDITIONS = ("restock", "scrap")


class ReturnLine(Schema):
    class Meta:
        unknown = INCLUDE

    sku = fields.String(required=True, validate=validate.Length(min=1), metadata={"class": "unknown_sku"})
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1),
                              metadata={"class": "invalid_quantity"})
    reason = fields.String(load_default="other")
    condition = fields.String(allow_none=True, validate=validate.OneOf(CONDITIONS),
                              metadata={"class": "invalid_condition"})


class Return(Schema):
    """A return authorisation against an order."""

    VERSION = 1

    class Meta:
        unknown = INCLUDE

    schema_version = fields.Integer(load_default=VERSION, validate=validate.Equal(VERSION))
    rma = fields.String(required=True, validate=validate.Length(min=1))
    order_number = fields.String(required=True, validate=validate.Length(min=1),
                                 metadata={"class": "unknown_order"})
    customer_no = fields.String(required=True, validate=validate.Length(min=1),
                                metadata={"class": "unknown_customer"})
    lines = fields.List(fields.Nested(ReturnLine), required=True, validate=validate.Length(min=1))
