"""HTTP API for the palette (node types with config JSON Schema) and the mapping preview."""
from __future__ import annotations

import json

from flask import Blueprint

from designer.errors import ApiError
from designer.requests import body
from nodes import catalog, expression

bp = Blueprint("palette_api", __name__, url_prefix="/api/v1")
PREVIEW_TIMEOUT_MS = 2000


@bp.get("/node-types")
def node_types():
    return {"node_types": [catalog.describe(spec) for spec in catalog.specs().values()]}


@bp.post("/preview/map")
def preview_map():
    args = body()
    if not isinstance(args, dict) or not isinstance(args.get("expression"), str):
        raise ApiError(400, "invalid_argument", 'the body is {"expression": "...", "input": ...}',
                       [{"field": "expression"}])
    params = args.get("params") or {}
    if not isinstance(params, dict):
        raise ApiError(400, "invalid_argument", "params must be an object", [{"field": "params"}])
    try:
        expr = expression.compile(args["expression"])
        output = expr.evaluate(args.get("input"), params, timeout_ms=PREVIEW_TIMEOUT_MS)
    except expression.ExpressionError as err:
        raise ApiError(422, "mapping_error", err.message, [{"field": "expression", **err.to_dict()}]) from None
    _check_json(output)
    return {"output": output, "engine": expr.engine}


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
