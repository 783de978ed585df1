"""HTTP API of the audit log: a workspace's entries newest first, a page at a time, and their export as
CSV or JSON lines; a partner admin may ask for every workspace of the partner (?scope=partner). There is
no way to change or remove an entry."""
from __future__ import annotations

from flask import Blueprint, Response, g, request, stream_with_context

from designer.access import requires
from designer.errors import ApiError
from designer.request_context import MAX_ID, int_arg, runtime
from runtime import audit

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit")
FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson"}


@bp.get("")
@requires("audit:read")
def list_entries():
    found, next_before = audit.entries(runtime(), _filter(), before=int_arg("before", minimum=1, maximum=MAX_ID),
                                       limit=int_arg("limit", 100, minimum=1, maximum=audit.MAX_LIMIT))
    return {"entries": found, "next_before": next_before}


@bp.get("/export")
@requires("audit:read")
def export_entries():
    fmt = request.args.get("format", "csv")
    if fmt not in FORMATS:
        raise ApiError(400, "invalid_argument", f"format is one of {sorted(FORMATS)}", [{"field": "format"}])
    where = _filter()
    name = f"audit-{where.workspace or where.partner_id}.{fmt}"
    return Response(stream_with_context(audit.export(runtime(), where, fmt)), mimetype=FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _filter() -> audit.Filter:
    """The request's workspace (entries of its partner only: a workspace id deleted and taken again by
    another partner does not show the first one's history), or with ?scope=partner every entry of the
    caller's partner, workspaces deleted since included."""
    principal = g.principal
    scope = request.args.get("scope", "workspace")
    if scope not in ("workspace", "partner"):
        raise ApiError(400, "invalid_argument", "scope is workspace or partner", [{"field": "scope"}])
    if scope == "partner" and not getattr(principal, "partner_admin", False):
        raise ApiError(403, "forbidden", "only a partner admin sees the audit log of every workspace",
                       [{"permission": "partner_admin"}])
    return audit.Filter(workspace=None if scope == "partner" else g.workspace, partner_id=principal.partner_id,
                        action=request.args.get("action") or None, actor=request.args.get("actor") or None)
