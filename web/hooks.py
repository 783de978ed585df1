"""Webhook intake: `/hooks/<workspace>/<path>` stores the run, then answers 202 with its id, or waits
for the flow's reply when the trigger says `respond: sync` (runtime/replies.py: the run's events, not
the database; 504 after its timeout, and the run goes on).

Before any run exists the caller proves itself as its trigger's `auth` says (an API key of the workspace
with `hooks:write`, or an HMAC signature of the body: 401 `unauthorized`), the workspace must be active
(403 `workspace_suspended`) and within its rate limits (web/limits.py: 429). `admit_key` does the same for
the published experience APIs (web/ext_api.py)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
from typing import Any

from flask import Blueprint, current_app, request

from designer import access, bodies
from designer.errors import ApiError
from designer.request_context import raw_body
from nodes import event_webhook
from nodes.edi import tokens as x12_tokens
from runtime import accounts, deployments, intake, jsontext, replies, secrets
from runtime.plan import PlanError
from web import limits

log = logging.getLogger(__name__)
X12 = "application/edi-x12"
bp = Blueprint("hooks", __name__)
# (auth, hmac_secret, signature_header) of a version's trigger: versions never change, so kept for good
_auth_kept: dict[tuple, tuple[str, str | None, str]] = {}
_auth_lock = threading.Lock()


@bp.route("/hooks/<workspace>/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def receive(workspace: str, path: str):
    rt = current_app.extensions["crossdock.runtime"]
    try:
        route = intake.find_route(rt, workspace, path, request.method)
    except intake.NotFound as err:
        raise ApiError(404, err.code, err.message, [{"field": "path"}]) from None
    auth, secret, header = _trigger_auth(rt, workspace, route)
    if auth == "hmac":
        _admit_signed(rt, workspace, secret, header)
    else:
        admit_key(rt, workspace)
    return run_route(rt, workspace, route, *_message())


def run_route(rt, workspace: str, route, message, text: str | None = None):
    """Start the route's run and answer as a webhook does: 202 with the run, or the flow's reply when its
    trigger says `respond: sync` (502 when the run failed, 504 after the trigger's timeout, and the run goes
    on). The experience API (web/ext_api.py) answers through it too."""
    start = dict(trigger="webhook", trigger_node=route.node_id, input_text=text)  # stored as received
    try:
        if route.respond != "sync":
            run = intake.start(rt, workspace, route.flow_id, route.version, message, **start)
            return {"run_id": run.id, "status": "queued", "run_url": f"/api/v1/runs/{run.id}"}, 202
        with rt.events.replies.expect() as ticket:  # before the run exists: its reply cannot come unheard
            run = intake.start(rt, workspace, route.flow_id, route.version, message, **start)
            answer = replies.answer(rt, ticket, run.id, route.timeout_s)
    except PlanError as err:
        raise ApiError(409, "not_runnable", str(err)) from None
    if answer.status == "replied":
        reply = answer.reply
        return current_app.response_class(jsontext.dumps(reply["body"]), status=reply["status"],
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


def admit_key(rt, workspace: str) -> access.Principal:
    """The API key the request carries, if it holds `hooks:write` in `workspace`, charged to the limits."""
    secret = access.presented_key()
    who = access.principal_for_key(rt, secret) if secret else None
    if who is None or not who.can(workspace, "hooks:write"):
        raise ApiError(401, "unauthorized", "this endpoint needs an API key of the workspace with scope "
                                            "hooks:write (X-Crossdock-Key or Authorization: Bearer)")
    _refuse_suspended(workspace, who.statuses.get(workspace))
    limits.charge("hooks", workspace, who.partner_id, who.key_id)
    return who


def _admit_signed(rt, workspace: str, secret: str | None, header: str) -> None:
    """`<header>: sha256=<hex>` (or the digest alone, hex or base64, as senders differ): an HMAC-SHA256 of
    the raw body made with the trigger's secret."""
    given = _digest_of(request.headers.get(header, ""))
    expected = hmac.new(secret.encode(), raw_body(), hashlib.sha256).digest() if secret else None
    if expected is None or given is None or not hmac.compare_digest(given, expected):
        raise ApiError(401, "unauthorized", f"this endpoint needs {header}: sha256=<hex HMAC-SHA256 of the body "
                                            f"made with the webhook's secret>", [{"field": header}])
    state = accounts.workspace_state(rt, workspace)
    _refuse_suspended(workspace, state[1] if state else None)
    limits.charge("hooks", workspace, state[0] if state else None)


def _digest_of(signature: str) -> bytes | None:
    """The 32 bytes a signature header carries: `sha256=` then hex (GitHub, ours), or hex, or base64 (Shopify)."""
    signature = signature.strip()
    if signature[:7].lower() == "sha256=":
        signature = signature[7:]
    try:
        digest = bytes.fromhex(signature) if len(signature) == 64 else base64.b64decode(signature, validate=True)
    except ValueError:  # binascii.Error is one
        return None
    return digest if len(digest) == 32 else None


def _refuse_suspended(workspace: str, status: str | None) -> None:
    if status == "suspended":
        raise ApiError(403, "workspace_suspended", f"workspace {workspace!r} is suspended; it starts no runs",
                       [{"workspace": workspace}])


def _trigger_auth(rt, workspace: str, route) -> tuple[str, str | None, str]:
    """How the route's trigger node authenticates callers: from the version's plan when this process has
    it (warmed at deploy), else read from the version once."""
    settings = rt.settings  # which database: cheap to hash, unlike the engine's URL object
    cache_key = (settings.database_url or settings.data_dir, settings.database_schema, workspace, route.flow_id,
                 route.version, route.node_id)
    found = _auth_kept.get(cache_key)
    if found is None:
        found = _read_trigger_auth(rt, workspace, route)
        with _auth_lock:
            if len(_auth_kept) >= 10_000:  # a bound on memory, not a policy
                _auth_kept.clear()
            _auth_kept[cache_key] = found
    return found


def _read_trigger_auth(rt, workspace: str, route) -> tuple[str, str | None, str]:
    plan = rt.plans.cached((workspace, route.flow_id, route.version))
    planned = plan.nodes.get(route.node_id) if plan is not None else None
    if planned is not None and isinstance(planned.prepared, dict):
        config = planned.prepared  # its secrets decrypted by the plan
    else:  # a big flow's document is read once here rather than planned inside the request
        doc = deployments.document(rt, workspace, route.flow_id, route.version) or {}
        node = next((n for n in doc.get("nodes", []) if n.get("id") == route.node_id), None) or {}
        config = node.get("config") or {}
    secret = config.get("hmac_secret")
    try:
        secret = secrets.reveal(rt.settings, secret) if isinstance(secret, str) and secret else None
    except secrets.SecretError:  # encrypted with a key this installation no longer has: nobody gets in
        log.warning("the hmac_secret of webhook %s of flow %s cannot be decrypted", route.node_id, route.flow_id)
        secret = None
    return (config.get("auth") or "key", secret, config.get("signature_header") or event_webhook.SIGNATURE_HEADER)


def _message() -> tuple[Any, str | None]:
    """JSON bodies as they are; any other body as text, so EDI or CSV posts are not refused. Both are read
    strictly (designer.bodies): NaN, 1e999, a lone surrogate or bytes that are not text are a 400."""
    raw = raw_body()
    if not raw:
        return dict(request.args) or None, None
    charset = request.mimetype_params.get("charset")
    if request.is_json or raw[:1] in (b"{", b"["):
        return bodies.parse_json_text(raw, charset)  # and its text: JSON of the same value, not written again
    if request.mimetype == X12 and not charset:  # X12 declares no charset: partners send Latin-1, even EBCDIC
        return {"body": x12_tokens.decode(raw)[0], "content_type": request.content_type}, None
    return {"body": bodies.text(raw, charset), "content_type": request.content_type}, None
