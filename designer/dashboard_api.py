"""HTTP API of the operations dashboard and business KPIs (issue 14): the workspace's figures over a window, the
partner's customers ranked by health, the KPIs by day and warehouse, and each flow's health for the flow list
(runtime/dashboard.py, runtime/kpis.py)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, g, request

from designer import drafts
from designer.access import requires, requires_partner_admin
from designer.errors import ApiError
from designer.request_context import runtime, workspace
from runtime import dashboard, kpis

bp = Blueprint("dashboard_api", __name__, url_prefix="/api/v1")
KPI_DEFAULT_DAYS = 30


@bp.get("/dashboard")
@requires("runs:read")
def get_dashboard():
    rt, ws = runtime(), workspace()
    flow_id = request.args.get("flow_id") or None
    if flow_id is not None:
        drafts.get(rt, ws, flow_id)  # 404 for a flow this workspace does not have
    return dashboard.workspace_dashboard(rt, ws, _window(), flow_id)


@bp.get("/partner/dashboard")
@requires_partner_admin
def get_partner_dashboard():
    return dashboard.partner_dashboard(runtime(), g.principal.partner_id, _window())


@bp.get("/kpis")
@requires("runs:read")
def get_kpis():
    end = _day("to", dt.datetime.utcnow().date())
    start = _day("from", end - dt.timedelta(days=KPI_DEFAULT_DAYS - 1))
    if start > end:
        raise ApiError(400, "invalid_param", "from is on or before to", [{"field": "from"}])
    if (end - start).days + 1 > kpis.MAX_DAYS:
        raise ApiError(400, "invalid_param", f"a report spans at most {kpis.MAX_DAYS} days", [{"field": "to"}])
    return kpis.report(runtime(), workspace(), start, end)


@bp.get("/flows/health")
@requires("runs:read")
def get_flow_health():
    return dashboard.flow_health(runtime(), workspace())


def _window() -> int:
    raw = request.args.get("window_s")
    if raw in (None, ""):
        return dashboard.DEFAULT_WINDOW_S
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not dashboard.MIN_WINDOW_S <= value <= dashboard.MAX_WINDOW_S:
        raise ApiError(400, "invalid_param", f"window_s is a whole number of seconds from {dashboard.MIN_WINDOW_S} "
                                             f"to {dashboard.MAX_WINDOW_S}", [{"field": "window_s"}])
    return value


def _day(name: str, default: dt.date) -> dt.date:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "invalid_param", f"{name} is a day, YYYY-MM-DD", [{"field": name}]) from None
