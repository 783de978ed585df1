"""HTTP API of cross-reference (lookup) tables: list, read (JSON or CSV), replace, edit a row, import CSV, and the
flows that use a table."""
from __future__ import annotations

from flask import Blueprint, Response, request

from designer import bodies
from designer.access import requires, takes_bodies
from designer.errors import ApiError
from designer.request_context import body, raw_body, runtime, workspace
from runtime import lookups

bp = Blueprint("lookups_api", __name__, url_prefix="/api/v1/lookups")


def _checked(call):
    try:
        return call()
    except lookups.InvalidLookup as err:
        raise ApiError(400, "invalid_lookup", err.message, [{"field": err.field}]) from None


@bp.get("")
@requires("flows:read")
def list_tables():
    return {"tables": lookups.tables(runtime(), workspace())}


@bp.get("/<table>")
@requires("flows:read")
def get_table(table: str):
    _checked(lambda: lookups.check_table(table))  # the name goes into a header: no line breaks, no quotes
    rows = lookups.rows(runtime(), workspace(), table)
    if request.args.get("format") == "csv":
        return Response(lookups.to_csv(rows), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{table}.csv"'})
    return {"table": table, "rows": rows}


@bp.get("/<table>/flows")
@requires("flows:read")
def table_users(table: str):
    """The flows whose documents use the table."""
    _checked(lambda: lookups.check_table(table))
    return {"table": table, "flows": lookups.used_by(runtime(), workspace(), table)}


@bp.put("/<table>")
@requires("lookups:write")
def replace_table(table: str):
    data = body()
    rows = data.get("rows") if isinstance(data, dict) else None
    count = _checked(lambda: lookups.replace(runtime(), workspace(), table, rows))
    return {"table": table, "rows": count}


@bp.post("/<table>/import")
@requires("lookups:write")
@takes_bodies("text/csv", "multipart/form-data")
def import_csv(table: str):
    """CSV as the request body (text/csv) or as the `file` of a form; replaces the table."""
    upload = request.files.get("file")
    if upload is None and (request.mimetype.startswith("multipart/") or bodies.is_json(request.mimetype)):
        raise ApiError(415, "unsupported_media_type", "send the CSV as the body (text/csv) or as the form's file",
                       [{"field": "Content-Type"}])
    raw = upload.read() if upload is not None else raw_body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_csv", "the CSV must be UTF-8", [{"field": "csv"}]) from None
    rows = _checked(lambda: lookups.parse_csv(text))
    count = _checked(lambda: lookups.replace(runtime(), workspace(), table, rows))
    return {"table": table, "rows": count}, 201


@bp.put("/<table>/rows/<path:key>")
@requires("lookups:write")
def put_row(table: str, key: str):
    data = body()
    if not isinstance(data, dict) or "value" not in data:
        raise ApiError(400, "invalid_argument", 'the body is {"value": ...}', [{"field": "value"}])
    _checked(lambda: lookups.put(runtime(), workspace(), table, key, data["value"]))
    return {"table": table, "key": key, "value": data["value"]}


@bp.delete("/<table>/rows/<path:key>")
@requires("lookups:write")
def delete_row(table: str, key: str):
    if not lookups.remove(runtime(), workspace(), table, key):
        raise ApiError(404, "not_found", f"table {table!r} has no key {key!r}")
    return "", 204
