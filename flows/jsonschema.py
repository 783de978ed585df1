"""Marshmallow schemas as JSON Schema (a draft 2020-12 subset): node configs for the palette and the
inspector form, canonical records for the inspector's field lists. The marshmallow class stays the one
source of truth; the browser reads this translation."""
from __future__ import annotations

from typing import Any

import marshmallow
from marshmallow import fields, validate

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Order matters: Integer and Float are Numbers, so the specific classes come first.
_TYPES: tuple[tuple[type[fields.Field], str], ...] = (
    (fields.Boolean, "boolean"),
    (fields.Integer, "integer"),
    (fields.Number, "number"),
    (fields.String, "string"),
    (fields.Dict, "object"),
    (fields.List, "array"),
    (fields.Nested, "object"),
)
_METADATA = ("title", "description", "format", "examples")


def json_schema(schema: type[marshmallow.Schema] | marshmallow.Schema) -> dict:
    """The JSON Schema document of a config schema class."""
    return {"$schema": DIALECT, **_object(schema)}


def _object(schema: type[marshmallow.Schema] | marshmallow.Schema) -> dict:
    instance = schema() if isinstance(schema, type) else schema
    properties, required = {}, []
    for name, field in instance.fields.items():
        if field.dump_only:
            continue
        key = field.data_key or name
        properties[key] = _field(field)
        if field.required:
            required.append(key)
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    # marshmallow rejects unknown keys by default (RAISE); only INCLUDE/EXCLUDE schemas allow them
    out["additionalProperties"] = instance.unknown != marshmallow.RAISE
    doc = (type(instance).__doc__ or "").strip()
    if doc:
        out["description"] = doc
    return out


def _field(field: fields.Field) -> dict:
    if isinstance(field, fields.Nested):
        out = _object(field.schema)
        if field.many:
            out = {"type": "array", "items": out}
    else:
        out = {}
        kind = next((t for cls, t in _TYPES if isinstance(field, cls)), None)
        if kind:
            out["type"] = kind
        if isinstance(field, fields.List):
            out["items"] = _field(field.inner)
        if isinstance(field, fields.Dict):
            if field.value_field is not None:
                out["additionalProperties"] = _field(field.value_field)
            if field.key_field is not None:
                keys = _field(field.key_field)
                keys.pop("type", None)
                if keys:
                    out["propertyNames"] = keys
    for key in _METADATA:
        if key in field.metadata:
            out[key] = field.metadata[key]
    if "class" in field.metadata:  # the business class a canonical field's failure reports
        out["x-business-class"] = field.metadata["class"]
    for validator in field.validators:
        out.update(_constraint(validator, out.get("type")))
    if field.allow_none and "type" in out:
        out["type"] = [out["type"], "null"]
    if field.allow_none and "enum" in out:
        out["enum"].append(None)
    if field.load_default is not marshmallow.missing:
        default = field.load_default() if callable(field.load_default) else field.load_default
        out["default"] = default
    return out


def _constraint(validator: Any, kind: str | None) -> dict:
    if isinstance(validator, validate.OneOf):
        return {"enum": list(validator.choices)}
    if isinstance(validator, validate.NoneOf):
        return {"not": {"enum": list(validator.iterable)}}
    if isinstance(validator, validate.Regexp):
        return {"pattern": validator.regex.pattern}
    if isinstance(validator, validate.Range):
        out = {}
        if validator.min is not None:
            out["minimum" if validator.min_inclusive else "exclusiveMinimum"] = validator.min
        if validator.max is not None:
            out["maximum" if validator.max_inclusive else "exclusiveMaximum"] = validator.max
        return out
    if isinstance(validator, validate.Length):
        names = {"string": ("minLength", "maxLength"), "array": ("minItems", "maxItems"),
                 "object": ("minProperties", "maxProperties")}.get(kind)
        if not names:
            return {}
        if validator.equal is not None:
            return {names[0]: validator.equal, names[1]: validator.equal}
        out = {}
        if validator.min is not None:
            out[names[0]] = validator.min
        if validator.max is not None:
            out[names[1]] = validator.max
        return out
    return {}  # custom validators (template syntax, unique ports) are enforced server-side only
