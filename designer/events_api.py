"""HTTP API of business events between flows (control.emit, event.subscribe): the workspace's recent events, each
with its deliveries (the subscribing flow, node and run, and that run's status)."""
from __future__ import annotations

import re

from flask import Blueprint, request

from designer.access import requires
from designer.errors import ApiError
from designer.request_context import MAX_ID, int_arg, runtime, workspace
from nodes.event_subscribe import PATTERN
from runtime import business_events

bp = Blueprint("events_api", __name__, url_prefix="/api/v1/events")


@bp.get("")
@requires("runs:read")
def list_events():
    name = request.args.get("name") or None
    if name is not None and not re.match(PATTERN, name):
        raise ApiError(400, "invalid_argument", "name is an event name such as shipment.departed, or shipment.*",
                       [{"field": "name"}])
    key = request.args.get("key") or None
    if key is not None and len(key) > 200:
        raise ApiError(400, "invalid_argument", "key is at most 200 characters", [{"field": "key"}])
    return {"events": business_events.recent(runtime(), workspace(), name=name, key=key,
                                             before=int_arg("before", None, minimum=1, maximum=MAX_ID),
                                             limit=int_arg("limit", 50, minimum=1, maximum=500))}
