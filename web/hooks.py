"""Webhook intake: `/hooks/<workspace>/<path>` stores the run, then answers 202 with its id, or waits
for the flow's reply when the trigger says `respond: sync` (504 after its timeout; the run goes on)."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, request

from designer import bodies
from designer.errors import ApiError
from designer.requests import raw_body
from runtime import intake
from runtime.models import Run
from runtime.plan import PlanError

bp = Blueprint("hooks", __name__)


@bp.route("/hooks/<workspace>/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def receive(workspace: str, path: str):
    rt = current_app.extensions["crossdock.runtime"]
    try:
        route = intake.find_route(rt, workspace, path, request.method)
        run = intake.start(rt, workspace, route.flow_id, route.version, _message(), trigger="webhook",
                           trigger_node=route.node_id)
    except intake.NotFound as err:
        raise ApiError(404, err.code, err.message, [{"field": "path"}]) from None
    except PlanError as err:
        raise ApiError(409, "not_runnable", str(err)) from None
    if route.respond != "sync":
        return {"run_id": run.id, "status": "queued", "run_url": f"/api/v1/runs/{run.id}"}, 202
    reply = intake.wait_reply(rt, run.id, route.timeout_s)
    if reply is not None:
        return current_app.response_class(json.dumps(reply["body"]), status=reply["status"],
                                          headers={**reply.get("headers", {}), "X-Crossdock-Run": str(run.id)},
                                          mimetype="application/json")
    with rt.sessions() as s:
        finished = s.get(Run, run.id)
    if finished.status == "failed":
        raise ApiError(502, "run_failed", f"run {run.id} failed: {(finished.error or {}).get('message', '')}",
                       [{"run_id": run.id, "node": (finished.error or {}).get("node")}])
    if finished.status == "succeeded":
        return {"run_id": run.id, "status": "succeeded", "output": finished.output}
    raise ApiError(504, "timeout", f"no reply within {route.timeout_s:g} s; run {run.id} goes on",
                   [{"run_id": run.id}])


def _message():
    """JSON bodies as they are; any other body as text, so EDI or CSV posts are not refused. Both are read
    strictly (designer.bodies): NaN, 1e999, a lone surrogate or bytes that are not text are a 400."""
    raw = raw_body()
    if not raw:
        return dict(request.args) or None
    charset = request.mimetype_params.get("charset")
    if request.is_json or raw[:1] in (b"{", b"["):
        return bodies.parse_json(raw, charset)
    return {"body": bodies.text(raw, charset), "content_type": request.content_type}
