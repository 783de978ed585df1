"""HTTP API of the no-code mapper (issue 13): a mapping compiled to JSONata and read back, the target schemas, and a
node's mapping context and preview over the flow's saved samples. docs/api.md describes the shapes."""
from __future__ import annotations

from flask import Blueprint

from designer import mappings
from designer.access import requires
from designer.errors import ApiError
from designer.request_context import body, runtime, workspace
from nodes import target_schemas

bp = Blueprint("mappings_api", __name__, url_prefix="/api/v1")


@bp.post("/mappings/compile")
@requires("flows:read")
def compile_mapping():
    args = body()
    if not isinstance(args, dict) or "mapping" not in args:
        raise ApiError(400, "invalid_argument", 'the body is {"mapping": {...}}', [{"field": "mapping"}])
    return mappings.compile(args["mapping"])


@bp.post("/mappings/parse")
@requires("flows:read")
def parse_mapping():
    args = body()
    if not isinstance(args, dict) or not isinstance(args.get("expression"), str):
        raise ApiError(400, "invalid_argument", 'the body is {"expression": "..."}', [{"field": "expression"}])
    return mappings.parse(args["expression"])


@bp.get("/schemas")
@requires("flows:read")
def list_schemas():
    return {"schemas": target_schemas.listing()}


@bp.get("/schemas/<schema_id>")
@requires("flows:read")
def get_schema(schema_id: str):
    found = target_schemas.get(schema_id)
    if found is None:
        raise ApiError(404, "not_found", f"no schema {schema_id!r}", [{"field": "schema_id"}])
    return {"id": found["id"], "title": found["title"], "schema": found["schema"]}


@bp.get("/flows/<flow_id>/nodes/<node_id>/mapping-context")
@requires("flows:read")
def mapping_context(flow_id: str, node_id: str):
    return mappings.context(runtime(), workspace(), flow_id, node_id)


@bp.post("/flows/<flow_id>/nodes/<node_id>/preview-samples")
@requires("mappings:write")
def preview_samples(flow_id: str, node_id: str):
    args = body()
    if not isinstance(args, dict) or not isinstance(args.get("expression"), str):
        raise ApiError(400, "invalid_argument", 'the body is {"expression": "...", "document": {...}, "limit": 5}',
                       [{"field": "expression"}])
    limit = args.get("limit", mappings.MAX_SAMPLES)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= mappings.MAX_SAMPLES:
        raise ApiError(400, "invalid_argument", f"limit is 1-{mappings.MAX_SAMPLES}", [{"field": "limit"}])
    field = args.get("field")
    if field is not None and not isinstance(field, str):
        raise ApiError(400, "invalid_argument", "field is a config field name", [{"field": "field"}])
    return mappings.preview_samples(runtime(), workspace(), flow_id, node_id, args["expression"],
                                    args.get("document"), field, limit)
