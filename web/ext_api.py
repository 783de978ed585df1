"""A workspace's experience API: `POST /api/ext/<workspace>/v<version>/<name>` runs the flow published
there as its webhook would (designer/published_api.py publishes; web/hooks.py admits the API key and
charges the rate limits), and `GET /api/ext/<workspace>/openapi.json` documents the published endpoints
with the canonical records as their bodies. Callers are systems with keys: no session, no cookie."""
from __future__ import annotations

from flask import Blueprint, current_app

from designer import access, openapi, published_api
from designer.errors import ApiError
from designer.request_context import body
from flows import canonical
from web import hooks, limits

bp = Blueprint("ext_api", __name__, url_prefix="/api/ext")


@bp.post("/<workspace>/v<int(max=2147483647):version>/<name>")
def call(workspace: str, version: int, name: str):
    rt = current_app.extensions["crossdock.runtime"]
    hooks.admit_key(rt, workspace)  # 401 before anything of the workspace shows
    endpoint = published_api.find(rt, workspace, name, version)
    if endpoint is None:
        raise ApiError(404, "not_found", f"no published endpoint {name} v{version}")
    route = published_api.route(rt, workspace, endpoint["flow_id"])
    if route is None:
        raise ApiError(409, "not_deployed", f"{name} v{version} runs flow {endpoint['flow_id']!r}, which is not "
                                            f"deployed now")
    message = body()
    if endpoint["request_record"]:
        problems = canonical.check(endpoint["request_record"], message)
        if problems:
            raise ApiError(422, "invalid_record", f"the body is not a valid {endpoint['request_record']}",
                           [{"field": p["field"], "code": p["class"], "message": p["message"]} for p in problems])
    return hooks.run_route(rt, workspace, route, message)  # answered as the webhook answers


@bp.get("/<workspace>/openapi.json")
def document(workspace: str):
    rt = current_app.extensions["crossdock.runtime"]
    secret = access.presented_key()
    who = access.principal_for_key(rt, secret) if secret else None
    if who is None or not (who.can(workspace, "flows:read") or who.can(workspace, "hooks:write")):
        raise ApiError(401, "unauthorized", "this document needs an API key of the workspace with scope "
                                            "flows:read or hooks:write (X-Crossdock-Key or Authorization: Bearer)")
    limits.charge("api", workspace, who.partner_id, who.key_id)
    return openapi.ext_document(workspace, published_api.listing(rt, workspace))

