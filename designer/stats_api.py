"""HTTP API for a deployed flow's monitor figures over a sliding window, of one version (docs/api.md)."""
from __future__ import annotations

from flask import Blueprint, request

from designer import drafts
from designer.access import requires
from designer.errors import ApiError
from designer.request_context import MAX_ID, int_arg, runtime, workspace
from runtime import stats

bp = Blueprint("stats_api", __name__, url_prefix="/api/v1")


@bp.get("/flows/<flow_id>/stats")
@requires("flows:read")
def flow_stats(flow_id: str):
    rt, ws = runtime(), workspace()
    flow = drafts.get(rt, ws, flow_id)  # 404 for a flow this workspace does not have
    window_s = int_arg("window_s", 300)
    if not 1 <= window_s <= stats.MAX_WINDOW_S:
        raise ApiError(400, "invalid_argument", f"window_s is between 1 and {stats.MAX_WINDOW_S}",
                       [{"field": "window_s"}])
    # the deployed version's figures unless another (or `all`) is asked for: counts of two graphs never mix
    version = flow.deployed_version
    if request.args.get("version") == "all":
        version = None
    elif request.args.get("version") not in (None, ""):
        version = int_arg("version", minimum=1, maximum=MAX_ID)
    return stats.flow_stats(rt, ws, flow_id, window_s, version=version)
