"""Bodies of the no-code mapper's API (designer/mappings_api.py, issue 13): a mapping compiled and parsed, the
target schemas, a node's mapping context and its preview over saved samples. The mapping itself is described in
docs/api.md (rule kinds nest), so it is an object here."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import Body, Reply

_MAPPING = {"description": 'a mapping: {"version": 1, "fields": [{"target", "rule"}], "arrays": [{"target", '
                           '"source", "fields"}]} (docs/api.md)'}


class CompileIn(Body):
    mapping = fields.Dict(required=True, metadata=_MAPPING)


class Compiled(Reply):
    expression = fields.String(required=True, metadata={"description": "readable JSONata, one target per line"})
    mapping = fields.Dict(required=True, metadata={"description": "the mapping in its canonical form"})


class ParseIn(Body):
    expression = fields.String(required=True, validate=validate.Length(max=100_000))


class Parsed(Reply):
    mapping = fields.Dict(allow_none=True, required=True, metadata=_MAPPING)
    editable = fields.Boolean(required=True)
    note = fields.String(metadata={"description": "why the expression is shown read-only"})
    position = fields.Integer(allow_none=True)


class SchemaSummary(Reply):
    id = fields.String(required=True, metadata={"examples": ["erp.upsert_sales_order.body", "canonical.order"]})
    title = fields.String(required=True)
    system = fields.String(required=True, metadata={"examples": ["erp", "oms", "wms", "tms", "canonical"]})
    operation = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(("body", "record")))


class SchemaList(Reply):
    schemas = fields.List(fields.Nested(SchemaSummary), required=True)


class TargetSchema(Reply):
    id = fields.String(required=True)
    title = fields.String(required=True)
    schema = fields.Dict(required=True, metadata={"description": "a JSON Schema"})


class ContextSource(Reply):
    schema = fields.Dict(allow_none=True, required=True)
    samples = fields.List(fields.Raw(allow_none=True), required=True,
                          metadata={"description": "what the node receives, per saved sample"})


class ContextTarget(Reply):
    schema_id = fields.String(allow_none=True, required=True)
    schema = fields.Dict(allow_none=True, required=True)


class MappingContext(Reply):
    source = fields.Nested(ContextSource, required=True)
    target = fields.Nested(ContextTarget, required=True)


class PreviewSamplesIn(Body):
    expression = fields.String(required=True, validate=validate.Length(max=100_000))
    document = fields.Dict(metadata={"description": "the flow document being edited; default: the saved draft"})
    field = fields.String(metadata={"description": "the config field previewed; default: the node's mapping"})
    limit = fields.Integer(strict=True, validate=validate.Range(1, 5), load_default=5)


class SampleError(Reply):
    code = fields.String(required=True)
    message = fields.String(required=True)


class SampleResult(Reply):
    sample = fields.String(required=True)
    input = fields.Raw(allow_none=True, required=True)
    output = fields.Raw(allow_none=True, required=True)
    deployed_output = fields.Raw(allow_none=True, required=True)
    differs = fields.List(fields.String(), required=True)
    fields_ = fields.Dict(data_key="fields", required=True, metadata={"description": "each scalar by its path"})
    error = fields.Nested(SampleError, allow_none=True, required=True)


class PreviewSamples(Reply):
    results = fields.List(fields.Nested(SampleResult), required=True)
    deployed_version = fields.Boolean(required=True)
