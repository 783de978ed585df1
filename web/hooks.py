"""Webhook intake: `/hooks/<workspace>/<path>` stores the run, then answers 202 with its id, or waits
for the flow's reply when the trigger says `respond: sync` (runtime/replies.py: the run's events, not
the database; 504 after its timeout, and the run goes on)."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, request

from designer import bodies
from designer.errors import ApiError
from designer.requests import raw_body
from runtime import intake, replies
from runtime.plan import PlanError

bp = Blueprint("hooks", __name__)


@bp.route("/hooks/<workspace>/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def receive(workspace: str, path: str):
    rt = current_app.extensions["crossdock.runtime"]
    try:
        route = intake.find_route(rt, workspace, path, request.method)
        if route.respond != "sync":
            run = _start(rt, workspace, route)
            return {"run_id": run.id, "status": "queued", "run_url": f"/api/v1/runs/{run.id}"}, 202
        with rt.events.replies.expect() as ticket:  # before the run exists: its reply cannot come unheard
            run = _start(rt, workspace, route)
            answer = replies.answer(rt, ticket, run.id, route.timeout_s)
    except intake.NotFound as err:
        raise ApiError(404, err.code, err.message, [{"field": "path"}]) from None
    except PlanError as err:
        raise ApiError(409, "not_runnable", str(err)) from None
    if answer.status == "replied":
        reply = answer.reply
        return current_app.response_class(json.dumps(reply["body"]), status=reply["status"],
                                          headers={**reply.get("headers", {}), "X-Crossdock-Run": str(run.id)},
                                          mimetype="application/json")
    if answer.status == "failed":
        error = answer.error or {}
        raise ApiError(502, "run_failed", f"run {run.id} failed: {error.get('message', '')}",
                       [{"run_id": run.id, "node": error.get("node")}])
    if answer.status == "succeeded":
        return {"run_id": run.id, "status": "succeeded", "output": answer.output}
    raise ApiError(504, "timeout", f"no reply within {route.timeout_s:g} s; run {run.id} goes on",
                   [{"run_id": run.id}])


def _start(rt, workspace: str, route):
    return intake.start(rt, workspace, route.flow_id, route.version, _message(), trigger="webhook",
                        trigger_node=route.node_id)


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
