"""HTTP API of alerts (issue 14): the workspace's alert rules (consultants: flows:write), the alerts they raise
with their deliveries (runs:read), acknowledged and resolved by operators (runs:write); runtime/alerts.py."""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, g, request

from designer.access import requires
from designer.errors import ApiError
from designer.request_context import MAX_ID, body, int_arg, runtime, workspace
from runtime import alerts

bp = Blueprint("alerts_api", __name__, url_prefix="/api/v1")


@bp.get("/alert-rules")
@requires("runs:read")
def list_rules():
    return {"rules": alerts.rules(runtime(), workspace())}


@bp.post("/alert-rules")
@requires("flows:write")
def create_rule():
    return {"rule": _checked(lambda: alerts.create(runtime(), workspace(), body()))}, 201


@bp.put("/alert-rules/<int(max=2147483647):rule_id>")
@requires("flows:write")
def update_rule(rule_id: int):
    return {"rule": _checked(lambda: alerts.update_rule(runtime(), workspace(), rule_id, body()))}


@bp.delete("/alert-rules/<int(max=2147483647):rule_id>")
@requires("flows:write")
def delete_rule(rule_id: int):
    _checked(lambda: alerts.delete_rule(runtime(), workspace(), rule_id))
    return "", 204


@bp.get("/alerts")
@requires("runs:read")
def list_alerts():
    status = request.args.get("status") or None
    if status is not None and status not in alerts.STATUSES:
        raise ApiError(400, "invalid_argument", f"status is one of {', '.join(alerts.STATUSES)}",
                       [{"field": "status"}])
    return {"alerts": alerts.alerts(runtime(), workspace(), status=status,
                                    rule_id=int_arg("rule_id", minimum=1, maximum=MAX_ID),
                                    limit=int_arg("limit", 100, minimum=1, maximum=500))}


@bp.post("/alerts/<int(max=2147483647):alert_id>/acknowledge")
@requires("runs:write")
def acknowledge(alert_id: int):
    return {"alert": _checked(lambda: alerts.acknowledge(runtime(), workspace(), alert_id, _actor()))}


@bp.post("/alerts/<int(max=2147483647):alert_id>/resolve")
@requires("runs:write")
def resolve(alert_id: int):
    return {"alert": _checked(lambda: alerts.resolve(runtime(), workspace(), alert_id, _actor()))}


def _checked(call: Callable):
    try:
        return call()
    except alerts.InvalidRule as err:
        raise ApiError(400, "invalid_alert_rule", err.message, [{"field": err.field}] if err.field else []) from None
    except LookupError as err:
        raise ApiError(404, "not_found", f"no such alert rule or alert: {err.args[0] if err.args else ''}") from None


def _actor() -> str:
    return getattr(g.get("principal"), "actor", None) or "anonymous"
