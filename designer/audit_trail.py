"""Records every change made through /api/v1 in the audit log (runtime.audit): each successful POST, PUT,
PATCH or DELETE, and every login, failed ones included, with who did it, to what, and a summary that
names what changed but never copies a value a secret could hide in (field names only, except for roles
and counts). Recording happens in the request that made the change; a failure to record is logged and
never fails the change."""
from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import select

from designer.request_context import WORKSPACE_HEADER, runtime
from flows import graph
from flows.diff import MAX_LISTED, flow_diff, nodes_of  # noqa: F401 (MAX_LISTED: the summaries' cap, read by tests)
from nodes import catalog
from runtime import audit, connections, secrets
from runtime.identity_models import User
from runtime.models import Flow, SystemConnection

log = logging.getLogger(__name__)
API = "/api/v1/"
CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_REFUSED = (401, 423)  # invalid_credentials, account_locked
_PARAM = re.compile(r"<[^>]*>")


@dataclass
class Exchange:
    """One finished request as the summaries read it; the bodies are parsed only when a summary reads
    them (a flow's document may be megabytes)."""
    args: dict[str, Any]  # the URL's variables
    response: Response
    workspace: str | None
    before: Any  # what Action.before read ahead of the change

    @functools.cached_property
    def body(self) -> Any:
        return request.get_json(silent=True)

    @functools.cached_property
    def answer(self) -> Any:  # the response's JSON
        return self.response.get_json(silent=True) if self.response.is_json else None


@dataclass(frozen=True)
class Action:
    name: str
    target: Callable[[Exchange], Any] | None = None  # default: the URL's variables, joined by "/"
    summary: Callable[[Exchange], dict | None] | None = None  # default: the names of the body's fields
    before: Callable[[dict], Any] | None = None  # reads the state before the change, given the URL's variables
    scope: str = "workspace"  # "workspace": the request's; "partner": none; "target": the target is one


def register(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)


def _before() -> None:
    if request.method in CHANGES and request.path.startswith(API):
        act = _action()
        if act is not None and act.before is not None:
            try:
                g.audit_before = act.before(dict(request.view_args or {}))
            except Exception:
                log.exception("audit: reading %s %s before the change failed", request.method, request.path)


def _after(response: Response) -> Response:
    if request.method in CHANGES and request.path.startswith(API) and request.url_rule is not None:
        try:
            _record(response)
        except Exception:  # the change is made: it must not fail for want of its audit entry
            log.exception("audit: recording %s %s failed", request.method, request.path)
    return response


def _record(response: Response) -> None:
    login = _rule() == ("POST", "/api/v1/session")
    if login and response.status_code in LOGIN_REFUSED:
        _record_refused_login(response)
        return
    if not 200 <= response.status_code < 300:
        return
    act = _action()
    if act is None and _rule() in ACTIONS:
        return  # a POST that changes nothing (validate, preview)
    act = act or Action((request.endpoint or "unknown")[:64])
    x = Exchange(dict(request.view_args or {}), response, g.get("workspace"), g.get("audit_before"))
    principal = g.get("principal")
    actor = getattr(principal, "actor", None) or "anonymous"
    partner = getattr(principal, "partner_id", None)
    if login:
        user = _get(x.answer, "user") or {}
        actor, partner = user.get("email") or actor, user.get("partner_id") or partner
    target = act.target(x) if act.target else "/".join(str(v) for v in x.args.values())
    target = "" if target is None else str(target)
    workspace = {"workspace": x.workspace, "partner": None, "target": target or None}[act.scope]
    summary = act.summary(x) if act.summary else _fields(x.body)
    audit.record(runtime(), partner_id=partner, workspace=workspace, actor=actor, action=act.name,
                 target=target, summary=summary)


def _record_refused_login(response: Response) -> None:
    tried = g.get("login_email") or _get(request.get_json(silent=True), "email")  # session_api normalises it
    email = tried.strip().lower()[:254] if isinstance(tried, str) else ""
    partner = None
    if email:
        with runtime().read_sessions() as s:
            partner = s.scalar(select(User.partner_id).where(User.email == email))
    code = _get(_get(response.get_json(silent=True) if response.is_json else None, "error"), "code")
    audit.record(runtime(), partner_id=partner, workspace=None, actor="anonymous", action="session.login_failed",
                 target=email, summary={"code": code or str(response.status_code)})


def action_key(method: str, rule: str) -> tuple[str, str]:
    """The key of ACTIONS: the method and the URL rule with its variables as <>."""
    return method, _PARAM.sub("<>", rule)


def _rule() -> tuple[str, str]:
    return action_key(request.method, request.url_rule.rule if request.url_rule else request.path)


def _action() -> Action | None:
    return ACTIONS.get(_rule())


# --- what the summaries read ------------------------------------------------------------------------------

def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _fields(body: Any) -> dict | None:
    """The names of the fields a body sent, never their values."""
    return {"fields": sorted(str(k) for k in body)} if isinstance(body, dict) and body else None


def _names(value: Any) -> list[str]:
    return sorted(str(k) for k in value) if isinstance(value, dict) else []


def _rows_before(model, key_column, key: str) -> dict[str, Any]:
    """The rows with this key, by workspace: the request's (its header), or every one when the request
    names none (its workspace is decided later, by designer.access); the summary takes g.workspace's."""
    q = select(model).where(key_column == key)
    named = request.headers.get(WORKSPACE_HEADER)
    if named:
        q = q.where(model.workspace == named)
    with runtime().read_sessions() as s:
        return {row.workspace: row for row in s.scalars(q)}


def _flow_before(args: dict) -> dict[str, dict]:
    return {ws: {"name": row.name, "document": row.document}
            for ws, row in _rows_before(Flow, Flow.id, args.get("flow_id", "")).items()}


def _connection_before(args: dict) -> dict[str, dict]:
    return {ws: connections.describe(row)
            for ws, row in _rows_before(SystemConnection, SystemConnection.name, args.get("name", "")).items()}


def _user_before(args: dict) -> str | None:
    with runtime().read_sessions() as s:
        return s.scalar(select(User.email).where(User.id == args.get("user_id")))


def _flow_update(x: Exchange) -> dict:
    before = (x.before or {}).get(x.workspace)
    with runtime().read_sessions() as s:
        after = s.scalar(select(Flow.document).where(Flow.workspace == x.workspace,
                                                     Flow.id == x.args.get("flow_id")))
    summary = {"revision": _get(x.answer, "revision")}
    if before is None or after is None:
        return {**summary, "diff": "unavailable"}
    return {**summary, **flow_diff(_revealed(before["document"]), _revealed(after))}


def _revealed(doc: Any) -> Any:
    """The document with its inline secrets decrypted, for the comparison only (nothing of it is kept):
    a secret is encrypted anew whenever a client sends it, so its ciphertext changes even when it did not."""
    nodes = doc.get("nodes") if isinstance(doc, dict) else None
    if not isinstance(nodes, list):
        return doc
    specs, settings, shown = catalog.specs(), runtime().settings, []
    for node in nodes:
        spec = graph.spec_for(specs, node.get("type"), node.get("type_version", 1)) if isinstance(node, dict) else None
        if spec is not None and isinstance(node.get("config"), dict):
            try:
                node = {**node, "config": secrets.revealed_config(settings, spec, node["config"])}
            except secrets.SecretError:  # sealed with a key no longer held: compared as stored
                pass
        shown.append(node)
    return {**doc, "nodes": shown}


def _connection_save(x: Exchange) -> dict:
    """Which fields changed (never their values) and which secrets were given (their names)."""
    old = (x.before or {}).get(x.workspace) or {}
    new = x.answer if isinstance(x.answer, dict) else {}
    flat_old = {**old, **{f"auth.{k}": v for k, v in (old.get("auth") or {}).items()}}
    flat_new = {**new, **{f"auth.{k}": v for k, v in (new.get("auth") or {}).items()}}
    changed = sorted(k for k in (flat_old.keys() | flat_new.keys()) - {"auth", "name"}
                     if flat_old.get(k) != flat_new.get(k))
    auth = _get(x.body, "auth")
    given = sorted(f"auth.{k}" for k in connections.SECRET_FIELDS
                   if _get(auth, k) not in (None, "", "********"))
    return {"created": not old, "fields_changed": changed, "secrets_given": given}


# --- the actions: (method, URL rule with its variables as <>) -> what is recorded ---------------------------

def _answer(*path: str) -> Callable[[Exchange], Any]:
    def read(x: Exchange) -> Any:
        value = x.answer
        for key in path:
            value = _get(value, key)
        return value
    return read


def _summary_of(**fields: Callable[[Exchange], Any]) -> Callable[[Exchange], dict]:
    return lambda x: {k: f(x) for k, f in fields.items()}


def _body(key: str) -> Callable[[Exchange], Any]:
    return lambda x: _get(x.body, key)


def _body_names(key: str) -> Callable[[Exchange], list[str]]:
    return lambda x: _names(_get(x.body, key))


def _user_summary(x: Exchange) -> dict:
    """Roles are what an audit of users is about; a password is named, never shown."""
    summary = {"fields": _names(x.body)}
    for key in ("partner_admin", "memberships", "unlock"):
        if isinstance(x.body, dict) and key in x.body:
            summary[key] = x.body[key]
    return summary


ACTIONS: dict[tuple[str, str], Action | None] = {
    ("POST", "/api/v1/flows"): Action("flow.create", _answer("flow", "id"), _summary_of(
        name=_answer("flow", "name"), nodes=lambda x: len(nodes_of(_get(x.answer, "flow"))))),
    ("POST", "/api/v1/flows/validate"): None,
    ("PUT", "/api/v1/flows/<>"): Action("flow.update", summary=_flow_update, before=_flow_before),
    ("DELETE", "/api/v1/flows/<>"): Action("flow.delete", summary=lambda x: {
        "name": _get((x.before or {}).get(x.workspace), "name")}, before=_flow_before),
    ("POST", "/api/v1/flows/<>/deploy"): Action("flow.deploy", summary=_summary_of(
        version=_answer("version"), rollback=lambda x: _get(x.body, "version") is not None)),
    ("POST", "/api/v1/flows/<>/undeploy"): Action("flow.undeploy", summary=lambda x: None),
    ("POST", "/api/v1/flows/<>/publish"): Action("endpoint.publish", summary=_summary_of(
        name=_body("name"), version=_body("version"))),
    ("DELETE", "/api/v1/published/<>/<>"): Action("endpoint.unpublish", summary=lambda x: None),
    ("POST", "/api/v1/flows/<>/runs"): Action("run.start", _answer("run", "id"), _summary_of(
        flow_id=lambda x: x.args.get("flow_id"), version=_answer("run", "version"))),
    ("POST", "/api/v1/runs/<>/replay"): Action("run.replay", summary=_summary_of(
        run=_answer("run", "id"), version=lambda x: _get(x.body, "version") or "original",
        from_node=_body("from_node"), input_replaced=lambda x: isinstance(x.body, dict) and "input" in x.body)),
    ("POST", "/api/v1/dead-letters/<>/resolve"): Action("dead_letter.resolve"),
    ("POST", "/api/v1/exceptions/<>/assign"): Action("exception.assign", summary=_summary_of(
        assignee=_body("assignee"))),
    ("POST", "/api/v1/exceptions/<>/comments"): Action("exception.comment", summary=lambda x: None),
    ("POST", "/api/v1/exceptions/<>/resolve"): Action("exception.resolve", summary=lambda x: None),
    ("POST", "/api/v1/exceptions/resolve"): Action("exception.resolve_many", lambda x: None, _summary_of(
        resolved=_answer("resolved"), filtered=lambda x: isinstance(x.body, dict) and "filter" in x.body)),
    ("POST", "/api/v1/exceptions/retry"): Action("exception.retry", lambda x: None, _summary_of(
        retries=lambda x: len(_answer("retries")(x) or []),
        filtered=lambda x: isinstance(x.body, dict) and "filter" in x.body)),
    ("POST", "/api/v1/exceptions/dry-run"): None,  # evaluates, changes nothing
    ("POST", "/api/v1/preview/map"): None,
    ("POST", "/api/v1/mappings/compile"): None,  # the mapper: evaluates, changes nothing
    ("POST", "/api/v1/mappings/parse"): None,
    ("POST", "/api/v1/flows/<>/nodes/<>/preview-samples"): None,
    ("POST", "/api/v1/templates/import"): Action("template.import", _answer("flow_id"), _summary_of(
        template=lambda x: _get(x.body, "template") or _get(_get(x.body, "bundle"), "id"),
        deployed_version=_answer("deployed_version"), params=_body_names("params"),
        connections=_body_names("connections"))),
    ("POST", "/api/v1/templates/publish"): Action("template.publish", _answer("template_id"), _summary_of(
        version=_answer("version"), from_flow=_body("flow_id"))),
    ("POST", "/api/v1/flows/<>/upgrade"): Action("flow.upgrade", summary=_summary_of(
        template=_answer("template_id"), from_version=_answer("from_version"), version=_answer("version"),
        changes=_answer("changes_applied"), conflicts_resolved=_answer("conflicts_resolved"),
        lookups=_answer("lookups_changed"))),
    ("POST", "/api/v1/connections/<>/test"): None,  # one call without a side effect; changes nothing here
    ("PUT", "/api/v1/connections/<>"): Action("connection.save", summary=_connection_save,
                                               before=_connection_before),
    ("DELETE", "/api/v1/connections/<>"): Action("connection.delete", summary=lambda x: None),
    ("PUT", "/api/v1/lookups/<>"): Action("lookup.put", summary=_summary_of(rows=_answer("rows"))),
    ("POST", "/api/v1/lookups/<>/import"): Action("lookup.import", summary=_summary_of(rows=_answer("rows"))),
    ("PUT", "/api/v1/lookups/<>/rows/<>"): Action("lookup.row_put", summary=lambda x: None),
    ("DELETE", "/api/v1/lookups/<>/rows/<>"): Action("lookup.row_delete", summary=lambda x: None),
    ("PUT", "/api/v1/trading-partners/<>"): Action("trading_partner.save"),
    ("DELETE", "/api/v1/trading-partners/<>"): Action("trading_partner.delete", summary=lambda x: None),
    ("POST", "/api/v1/session"): Action("session.login", _answer("user", "email"), lambda x: None, scope="partner"),
    ("DELETE", "/api/v1/session"): Action("session.logout", summary=lambda x: None, scope="partner"),
    ("POST", "/api/v1/session/password"): Action("session.password_change", summary=lambda x: None,
                                                 scope="partner"),
    ("POST", "/api/v1/workspaces"): Action("workspace.create", _answer("workspace", "id"), _summary_of(
        name=_body("name"), template=_body("template"), params=_body_names("params"),
        installed=_answer("installed")), scope="target"),
    ("PATCH", "/api/v1/workspaces/<>"): Action("workspace.update", summary=lambda x: {
        "fields": _names(x.body), "status": _get(x.body, "status")}, scope="target"),
    ("DELETE", "/api/v1/workspaces/<>"): Action("workspace.delete", summary=lambda x: None, scope="target"),
    ("POST", "/api/v1/users"): Action("user.create", _answer("user", "email"), _user_summary, scope="partner"),
    ("PATCH", "/api/v1/users/<>"): Action("user.update", _answer("user", "email"), _user_summary, scope="partner"),
    ("DELETE", "/api/v1/users/<>"): Action("user.delete", lambda x: x.before, lambda x: None, _user_before,
                                           scope="partner"),
    ("PUT", "/api/v1/partner"): Action("partner.update", lambda x: getattr(g.get("principal"), "partner_id", None),
                                       scope="partner"),
    ("PUT", "/api/v1/partner/smtp"): Action("partner.smtp_save", lambda x: getattr(g.get("principal"), "partner_id",
                                                                               None), scope="partner"),
    ("DELETE", "/api/v1/partner/smtp"): Action("partner.smtp_delete", lambda x: getattr(
        g.get("principal"), "partner_id", None), lambda x: None, scope="partner"),
    ("POST", "/api/v1/alert-rules"): Action("alert_rule.create", _answer("rule", "id"), _summary_of(
        name=_answer("rule", "name"), kind=_answer("rule", "kind"))),
    ("PUT", "/api/v1/alert-rules/<>"): Action("alert_rule.update"),
    ("DELETE", "/api/v1/alert-rules/<>"): Action("alert_rule.delete", summary=lambda x: None),
    ("POST", "/api/v1/alerts/<>/acknowledge"): Action("alert.acknowledge", summary=lambda x: None),
    ("POST", "/api/v1/alerts/<>/resolve"): Action("alert.resolve", summary=lambda x: None),
    ("POST", "/api/v1/keys"): Action("key.create", _answer("key", "id"), _summary_of(
        name=_answer("key", "name"), scopes=_answer("key", "scopes"))),
    ("DELETE", "/api/v1/keys/<>"): Action("key.revoke", summary=lambda x: None),
}
