"""HTTP API of a workspace's EDI trading partners (issue 15): list, read, create or replace, delete, and the
interchanges sent to a partner with their 997 status."""
from __future__ import annotations

from flask import Blueprint, request

from designer.access import requires
from designer.errors import ApiError
from designer.request_context import body, int_arg, runtime, workspace
from runtime import edi_register, trading_partners

bp = Blueprint("trading_partners_api", __name__, url_prefix="/api/v1/trading-partners")
STATUSES = ("awaiting", "acknowledged", "overdue", "not_expected")


def _found(name: str) -> dict:
    found = trading_partners.describe(runtime(), workspace(), name)
    if found is None:
        raise ApiError(404, "not_found", f"no trading partner {name!r}")
    return found


@bp.get("")
@requires("flows:read")
def list_partners():
    return {"trading_partners": trading_partners.list_all(runtime(), workspace())}


@bp.get("/<name>")
@requires("flows:read")
def get_partner(name: str):
    return _found(name)


@bp.put("/<name>")
@requires("connections:write")
def save_partner(name: str):
    try:
        return trading_partners.save(runtime(), workspace(), name, body())
    except trading_partners.InvalidPartner as err:
        raise ApiError(400, "invalid_trading_partner", err.message, [{"field": err.field}]) from None


@bp.delete("/<name>")
@requires("connections:write")
def delete_partner(name: str):
    if not trading_partners.remove(runtime(), workspace(), name):
        raise ApiError(404, "not_found", f"no trading partner {name!r}")
    return "", 204


@bp.get("/<name>/interchanges")
@requires("runs:read")
def list_interchanges(name: str):
    _found(name)
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError(400, "invalid_argument", f"status is one of {list(STATUSES)}", [{"field": "status"}])
    return {"interchanges": edi_register.interchanges(runtime(), workspace(), name, status=status,
                                                      limit=int_arg("limit", 50, minimum=1, maximum=500))}
