"""HTTP API for the palette (node types with config JSON Schema) and the mapping preview."""
from __future__ import annotations

import json

from flask import Blueprint

from designer import drafts, preview
from designer.access import requires
from designer.errors import ApiError
from designer.request_context import body, runtime, workspace
from nodes import catalog
from runtime import lookups

bp = Blueprint("palette_api", __name__, url_prefix="/api/v1")


@bp.get("/node-types")
@requires("flows:read")
def node_types():
    return {"node_types": [catalog.describe(spec) for spec in catalog.specs().values()]}


@bp.post("/preview/map")
@requires("mappings:write")
def preview_map():
    """{"expression", "input"} plus the node it stands for: "flow_id" (the saved draft) or "flow" (the
    document the editor holds), "node" and optionally "field"; "params" override the flow's values."""
    args = body()
    if not isinstance(args, dict) or not isinstance(args.get("expression"), str):
        raise ApiError(400, "invalid_argument", 'the body is {"expression": "...", "input": ...}',
                       [{"field": "expression"}])
    params = args.get("params") or {}
    if not isinstance(params, dict):
        raise ApiError(400, "invalid_argument", "params must be an object", [{"field": "params"}])
    for key in ("flow_id", "node", "field"):
        if args.get(key) is not None and not isinstance(args[key], str):
            raise ApiError(400, "invalid_argument", f"{key} must be a string", [{"field": key}])
    doc = args.get("flow")
    if doc is not None and not isinstance(doc, dict):
        raise ApiError(400, "invalid_argument", "flow must be a flow document", [{"field": "flow"}])
    ws = workspace()
    if doc is None and args.get("flow_id") is not None:
        doc = drafts.get(runtime(), ws, args["flow_id"]).document
    if args.get("node") is not None and doc is None:
        raise ApiError(400, "invalid_argument", "a node needs its flow: flow_id or flow", [{"field": "flow_id"}])
    rt = runtime()
    result = preview.preview(ws, args["expression"], args.get("input"), doc, args.get("node"), args.get("field"),
                             params, lookups=lambda table, key: lookups.get(rt, ws, table, key))  # $lookup reads
    _check_json(result["output"])
    return result


def _check_json(output) -> None:
    """422 for a result the response cannot carry as JSON (a 500 before): functions, regexes, Infinity, NaN."""
    try:
        json.dumps(output, allow_nan=False)
    except ValueError:
        code, message = "D1001", "Number out of range: the result holds Infinity or NaN"
    except TypeError:
        code, message = "U1000", "the result holds a function or a regex, which JSON cannot carry"
    except RecursionError:
        code, message = "U1002", "the result is nested too deeply"
    else:
        return
    raise ApiError(422, "mapping_error", message, [{"field": "expression", "code": code, "message": message}])
