"""`GET /metrics`: the Prometheus text of every Crossdock process of this machine (runtime/metrics.py), for a
scraper that presents the installation's metrics token (`Authorization: Bearer <CROSSDOCK_METRICS_TOKEN>`). The
figures name every workspace and flow of the installation, so no user session or workspace key opens it; without
a configured token the endpoint does not exist (404)."""
from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request

from designer.errors import ApiError
from runtime import metrics

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape():
    rt = current_app.extensions["crossdock.runtime"]
    token = rt.settings.metrics_token
    if not token:
        raise ApiError(404, "not_found", "metrics are off: set CROSSDOCK_METRICS_TOKEN to serve them")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise ApiError(401, "unauthorized", "GET /metrics needs Authorization: Bearer <CROSSDOCK_METRICS_TOKEN>")
    return Response(metrics.exposition(rt), mimetype=None, content_type=metrics.CONTENT_TYPE)
