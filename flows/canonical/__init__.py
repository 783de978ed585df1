"""Canonical business records (order, inventory, shipment, return, warehouse event): the shapes flows
agree on between systems. `check` names each failing field path and its business class; no IO."""
from __future__ import annotations

from typing import Any

import marshmallow

from flows.canonical import inventory, order, returns, shipment, warehouse_event
from flows.jsonschema import json_schema

# Record type name -> schema class; each class carries VERSION (its schema version).
RECORDS: dict[str, type[marshmallow.Schema]] = {
    "order": order.Order,
    "inventory_level": inventory.InventoryLevel,
    "inventory_reservation": inventory.Reservation,
    "shipment": shipment.Shipment,
    "return": returns.Return,
    "warehouse_event": warehouse_event.WarehouseEvent,
}
DEFAULT_CLASS = "invalid_record"


def check(record: str, data: Any) -> list[dict]:
    """The problems of `data` as a `record`: [{"field": "lines[0].quantity", "class": "invalid_quantity",
    "message": ...}], empty when it conforms. KeyError for an unknown record type."""
    schema = RECORDS[record]()
    if not isinstance(data, dict):
        return [{"field": "", "class": DEFAULT_CLASS, "message": f"a {record} must be a JSON object"}]
    try:
        schema.load(data)
    except marshmallow.ValidationError as err:
        return _flatten(err.messages, schema, "")
    return []


def describe(record: str) -> dict:
    """The record as JSON Schema for the inspector, with its id and version."""
    cls = RECORDS[record]
    return {"$id": f"crossdock.{record}/{cls.VERSION}", "title": record, "version": cls.VERSION,
            **json_schema(cls)}


def _flatten(messages: Any, schema: marshmallow.Schema | None, prefix: str, klass: str = DEFAULT_CLASS) -> list[dict]:
    out = []
    if isinstance(messages, list):
        return [{"field": prefix, "class": klass, "message": str(m)} for m in messages]
    for key, inner in messages.items():
        field = schema.fields.get(key) if schema is not None and isinstance(key, str) else None
        here = klass
        nested = schema
        if field is not None:
            here = field.metadata.get("class", klass)
            nested = _nested_schema(field)
        if isinstance(key, int):
            path = f"{prefix}[{key}]"
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        out += _flatten(inner, nested, path, here)
    return out


def _nested_schema(field: marshmallow.fields.Field) -> marshmallow.Schema | None:
    if isinstance(field, marshmallow.fields.List):
        field = field.inner
    if isinstance(field, marshmallow.fields.Nested):
        return field.schema
    return None
