"""HTTP API of a workspace's connections to its systems; secrets go in and never come out. A test calls the
system once without a side effect and answers what it found (runtime/connection_checks.py)."""
from __future__ import annotations

from flask import Blueprint

from designer.access import requires
from designer.errors import ApiError
from designer.request_context import body, runtime, workspace
from runtime import connection_checks, connections

bp = Blueprint("connections_api", __name__, url_prefix="/api/v1/connections")


@bp.get("")
@requires("flows:read")
def list_connections():
    return {"connections": connections.list_all(runtime(), workspace())}


@bp.get("/<name>")
@requires("flows:read")
def get_connection(name: str):
    row = connections.get_row(runtime(), workspace(), name)
    if row is None:
        raise ApiError(404, "not_found", f"no connection {name!r}")
    return connections.describe(row)


@bp.put("/<name>")
@requires("connections:write")
def save_connection(name: str):
    try:
        return connections.save(runtime(), workspace(), name, body())
    except connections.InvalidConnection as err:
        raise ApiError(400, "invalid_connection", err.message, [{"field": err.field}]) from None


@bp.delete("/<name>")
@requires("connections:write")
def delete_connection(name: str):
    if not connections.remove(runtime(), workspace(), name):
        raise ApiError(404, "not_found", f"no connection {name!r}")
    return "", 204


@bp.post("/<name>/test")
@requires("connections:write")
def test_connection(name: str):
    result = connection_checks.check(runtime(), workspace(), name)
    if result is None:
        raise ApiError(404, "not_found", f"no connection {name!r}")
    return result
