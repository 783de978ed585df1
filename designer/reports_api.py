"""HTTP API of reports (issue 14): a customer workspace's SLA report of one month (runtime/sla.py) as JSON, CSV or
PDF (runtime/sla_documents.py). Read permission of runs; a partner admin names any workspace of its partner with
?workspace= (the workspace header does the same), another tenant's is 404 as everywhere."""
from __future__ import annotations

import re

from flask import Blueprint, Response, g, request

from designer import access
from designer.access import requires
from designer.errors import ApiError
from designer.request_context import runtime, workspace
from runtime import sla, sla_documents

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1")
FORMATS = ("json", "csv", "pdf")
SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


@bp.get("/reports/sla")
@requires("runs:read")
def sla_report():
    fmt = request.args.get("format") or "json"
    if fmt not in FORMATS:
        raise ApiError(400, "invalid_argument", f"format is one of {', '.join(FORMATS)}", [{"field": "format"}])
    month = request.args.get("month")
    try:
        sla.month_range(month)
    except sla.InvalidMonth as err:
        raise ApiError(400, "invalid_argument", str(err), [{"field": "month"}]) from None
    ws = _customer()
    report = sla.report(runtime(), ws, month)
    if fmt == "json":
        return {"report": report}
    name = f"sla-{SAFE_NAME.sub('_', ws)}-{month}.{fmt}"
    data, mimetype = ((sla_documents.to_csv(report), "text/csv") if fmt == "csv" else
                      (sla_documents.to_pdf(report), "application/pdf"))
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _customer() -> str:
    """?workspace=, when given, checked as the workspace header is: one the caller does not see is 404."""
    wanted = request.args.get("workspace")
    if not wanted or wanted == workspace():
        return workspace()
    who = g.principal
    if not who.sees(wanted):
        raise ApiError(404, "unknown_workspace", f"no workspace {wanted!r}", [{"field": "workspace"}])
    access.check(who, wanted, ("runs:read",))
    return wanted
