"""HTTP API of the canonical records as JSON Schema, for the inspector (ports and conform show them)."""
from __future__ import annotations

from flask import Blueprint

from designer.access import requires
from designer.errors import ApiError
from flows import canonical

bp = Blueprint("records_api", __name__, url_prefix="/api/v1/records")


@bp.get("")
@requires("flows:read")
def list_records():
    return {"records": [canonical.describe(name) for name in canonical.RECORDS]}


@bp.get("/<name>")
@requires("flows:read")
def get_record(name: str):
    if name not in canonical.RECORDS:
        raise ApiError(404, "not_found", f"no canonical record {name!r}")
    return canonical.describe(name)
