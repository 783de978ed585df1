"""Canonical schemas as JSON Schema (draft 2020-12 subset), so the inspector can show a record's fields."""
from __future__ import annotations

from typing import Any

import marshmallow
from marshmallow import fields, validate

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_TYPES = ((fields.Boolean, "boolean"), (fields.Integer, "integer"), (fields.Float, "number"), (fields.Decimal, "number"),
          (fields.String, "string"), (fields.Dict, "object"), (fields.List, "array"))


def json_schema(schema: type[marshmallow.Schema]) -> dict:
    return {"$schema": DIALECT, **_object(schema())}


def _object(schema: marshmallow.Schema) -> dict:
    properties = {name: _field(f) for name, f in schema.fields.items()}
    required = [name for name, f in schema.fields.items() if f.required]
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if type(schema).__doc__:
        out["description"] = type(schema).__doc__.strip()
    return out


def _field(field: fields.Field) -> dict:
    if isinstance(field, fields.Nested):
        out = _object(field.schema)
    else:
        out = {}
        kind = next((t for cls, t in _TYPES if isinstance(field, cls)), None)
        if kind:
            out["type"] = kind
        if isinstance(field, fields.List):
            out["items"] = _field(field.inner)
    for v in field.validators:
        if isinstance(v, validate.OneOf):
            out["enum"] = list(v.choices)
        elif isinstance(v, validate.Range):
            if v.min is not None:
                out["minimum" if v.min_inclusive else "exclusiveMinimum"] = v.min
            if v.max is not None:
                out["maximum" if v.max_inclusive else "exclusiveMaximum"] = v.max
        elif isinstance(v, validate.Length) and v.min and out.get("type") in ("string", "array"):
            out["minLength" if out["type"] == "string" else "minItems"] = v.min
    for key in ("description", "class"):
        if key in field.metadata:
            out["x-business-class" if key == "class" else key] = field.metadata[key]
    if field.allow_none and "type" in out:
        out["type"] = [out["type"], "null"]
    return out
