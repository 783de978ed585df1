"""Who is asking, and may they: the role table, the authentication of every request (a signed session
cookie or an API key), the workspace a request acts in, the decorators every /api/v1 view carries, and the
refusal of cross-site requests (Origin, CSRF token, JSON bodies only).

Per request a browser session costs one HMAC check of its cookie and a dict lookup in runtime.accounts'
short cache; /hooks/ and /api/ext/ never open the session (their callers are systems with keys).
"""
from __future__ import annotations

import datetime as dt
import functools
import hmac
from dataclasses import dataclass, field
from typing import Callable, Mapping
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface

from designer import bodies
from designer.errors import ApiError
from designer.request_context import WORKSPACE_HEADER, runtime
from runtime import accounts, keys

# the permission table of docs/api.md: what each workspace role may do
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"flows:read", "runs:read"}),
    "mapper": frozenset({"flows:read", "runs:read", "mappings:write", "lookups:write"}),
    "operator": frozenset({"flows:read", "runs:read", "runs:write", "audit:read"}),
    "consultant": frozenset({"flows:read", "runs:read", "mappings:write", "lookups:write", "runs:write",
                             "flows:write", "connections:write", "audit:read"}),
}
ADMIN_PERMISSIONS = frozenset({"keys:write"})  # workspace-level, partner admins only
KEY_PERMISSIONS = frozenset({"hooks:write"})  # API keys only: webhook intake and experience endpoints
WORKSPACE_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values(), ADMIN_PERMISSIONS, KEY_PERMISSIONS)
PARTNER_PERMISSIONS = frozenset({"workspaces:write", "users:write", "partner:write"})  # partner admins only
SUSPENSION_ALLOWS = frozenset({"keys:write"})  # a suspended workspace's keys can still be revoked

SESSION_COOKIE = "crossdock_session"
CSRF_HEADER = "X-Crossdock-CSRF"
KEY_HEADER = "X-Crossdock-Key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSIONLESS = ("/hooks/", "/api/ext/")  # called by systems with keys: a cookie there is never read
ACCESS_MARK = "crossdock_access"  # the attribute every /api/v1 view carries (tests/designer/test_access.py)


@dataclass(frozen=True)
class Principal:
    """The caller: a user (by session cookie) or an API key. `roles` {workspace: role} lists the workspaces
    it sees (a partner admin's role is "admin", a key's "key"); `statuses` their status."""
    kind: str  # "user" | "key"
    partner_id: str
    actor: str  # the user's email or "key:<id>", as the audit log names it
    user_id: int | None = None
    key_id: str | None = None
    partner_admin: bool = False
    roles: Mapping[str, str] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()
    statuses: Mapping[str, str] = field(default_factory=dict)
    by_cookie: bool = False
    must_change_password: bool = False  # a one-time password: nothing but the password change until then

    def sees(self, workspace: str) -> bool:
        return workspace in self.roles

    def can(self, workspace: str, permission: str) -> bool:
        if permission in PARTNER_PERMISSIONS:
            return self.kind == "user" and self.partner_admin
        if not self.sees(workspace):
            return False
        if self.kind == "key":
            return permission in self.scopes
        if permission in KEY_PERMISSIONS:
            return False
        return self.partner_admin or permission in ROLE_PERMISSIONS.get(self.roles[workspace], ())

    def default_workspace(self) -> str | None:
        """`default` when it sees it, else the first it sees (a key: its own)."""
        if "default" in self.roles:
            return "default"
        return min(self.roles) if self.roles else None


def register(app: Flask) -> None:
    """Session cookie settings and the cross-site checks of every /api/v1 request."""
    settings = app.extensions["crossdock.runtime"].settings
    app.config.update(SESSION_COOKIE_NAME=SESSION_COOKIE, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.secure_cookies,
                      PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.session_hours),
                      SESSION_REFRESH_EACH_REQUEST=False)  # a lifetime from login, and no Set-Cookie on every answer
    app.session_interface = _Sessions()
    app.before_request(refuse_cross_site)


class _Sessions(SecureCookieSessionInterface):
    def open_session(self, app, request):
        if request.path.startswith(SESSIONLESS):
            return self.session_class()
        return super().open_session(app, request)


def refuse_cross_site() -> None:
    """Before every /api/v1 request: an Origin other than this server's is refused, and so is an unsafe
    request whose body is not JSON (a cross-site form or text/plain post), unless the view takes other
    bodies (`takes_bodies`), where the CSRF token of a cookie session still stands in the way."""
    if not request.path.startswith("/api/v1/"):
        return
    origin = request.headers.get("Origin")
    if origin is not None and not _same_origin(origin):
        raise ApiError(403, "cross_origin", "requests from other sites are refused", [{"field": "Origin"}])
    if request.method in SAFE_METHODS or not request.mimetype or bodies.is_json(request.mimetype):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if request.mimetype not in getattr(view, "crossdock_bodies", ()):
        raise ApiError(415, "unsupported_media_type", f"the body must be JSON (Content-Type: application/json), "
                                                      f"not {request.mimetype}", [{"field": "Content-Type"}])


def _same_origin(origin: str) -> bool:
    """Host and port as the browser reached us; the scheme is left out, since a TLS proxy in front makes
    the server see http where the browser says https."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc.lower() == request.host.lower()


def takes_bodies(*mimetypes: str) -> Callable:
    """Marks a view that accepts bodies besides JSON (a CSV upload)."""
    def mark(view):
        view.crossdock_bodies = frozenset(mimetypes)
        return view
    return mark


def presented_key() -> str | None:
    """The API key secret of `Authorization: Bearer` or `X-Crossdock-Key`, if the request carries one."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get(KEY_HEADER) or None


def principal() -> Principal | None:
    """The authenticated caller of this request, or None; worked out once per request. A presented key
    that is not valid is a 401 (never a fall-back to the cookie); a cookie session's unsafe request needs
    its CSRF token."""
    if "principal" not in g:
        g.principal = _authenticate()
    return g.principal


def principal_for_key(rt, secret: str) -> Principal | None:
    info = keys.verify(rt, secret)
    if info is None:
        return None
    state = accounts.workspace_state(rt, info.workspace)
    if state is None:
        return None
    return Principal("key", info.partner_id, f"key:{info.id}", key_id=info.id, roles={info.workspace: "key"},
                     scopes=frozenset(info.scopes), statuses={info.workspace: state[1]})


def principal_for_user(rt, user_id, epoch) -> Principal | None:
    """The user of a session whose epoch still holds (a password change ends older sessions)."""
    ident = accounts.identity(rt, user_id) if isinstance(user_id, int) else None
    if ident is None or ident.epoch != epoch:
        return None
    return Principal("user", ident.partner_id, ident.email, user_id=ident.user_id, partner_admin=ident.partner_admin,
                     roles={ws: v[0] for ws, v in ident.workspaces.items()},
                     statuses={ws: v[1] for ws, v in ident.workspaces.items()}, by_cookie=True,
                     must_change_password=ident.must_change_password)


def _authenticate() -> Principal | None:
    rt = runtime()
    secret = presented_key()
    if secret is not None:
        found = principal_for_key(rt, secret)
        if found is None:
            raise ApiError(401, "not_authenticated", "the API key is not valid, or it was revoked")
        return found
    if "uid" not in session:
        return None
    found = principal_for_user(rt, session.get("uid"), session.get("epoch"))
    if found is None:
        session.clear()  # ended by a password change, or the user was removed: the cookie goes too
        return None
    if request.method not in SAFE_METHODS:
        token = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(token.encode(), str(session.get("csrf", "")).encode()):
            raise ApiError(403, "csrf_failed", f"a change made with a session needs the {CSRF_HEADER} header "
                                               f"the session answer gave", [{"field": CSRF_HEADER}])
    return found


def signed_in() -> Principal:
    found = principal()
    if found is None:
        raise ApiError(401, "not_authenticated", "log in first (POST /api/v1/session) or send an API key")
    return found


def acting() -> Principal:
    """The caller of a workspace or partner view: signed in, and past a one-time password (the session
    answer, the password change and the workspace list stay open to it)."""
    who = signed_in()
    if who.must_change_password:
        raise ApiError(403, "password_change_required", "the password is a one-time password: change it first "
                                                         "(POST /api/v1/session/password)", [{"field": "password"}])
    return who


def resolve_workspace(who: Principal) -> str:
    """The request's workspace: the header's, else the caller's default; 404 for one it does not see, so
    that another tenant's workspace ids look like no workspace at all."""
    wanted = request.headers.get(WORKSPACE_HEADER)
    ws = wanted if wanted is not None else who.default_workspace()
    if ws is None or not who.sees(ws):
        raise ApiError(404, "unknown_workspace", f"no workspace {ws!r}" if ws else "no workspace to act in",
                       [{"field": WORKSPACE_HEADER}])
    return ws


def check(who: Principal, ws: str, permissions: tuple[str, ...]) -> str:
    """The first of `permissions` the caller holds in `ws`; 403 when none, or when the workspace is
    suspended and every one it holds is a change."""
    held = [p for p in permissions if who.can(ws, p)]
    if not held:
        raise ApiError(403, "forbidden", f"this needs the permission {permissions[0]}",
                       [{"permission": permissions[0]}])
    if who.statuses.get(ws) == "suspended" and all(p.endswith(":write") and p not in SUSPENSION_ALLOWS for p in held):
        raise ApiError(403, "workspace_suspended", f"workspace {ws!r} is suspended; it takes no changes",
                       [{"workspace": ws}])
    return held[0]


def requires(*permissions: str) -> Callable:
    """A workspace view: the caller must hold one of `permissions` in the request's workspace, which
    becomes g.workspace."""
    unknown = set(permissions) - WORKSPACE_PERMISSIONS
    assert permissions and not unknown, f"unknown permissions {unknown}"

    def wrap(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            who = acting()
            ws = resolve_workspace(who)
            check(who, ws, permissions)
            g.workspace = ws
            return view(*args, **kwargs)
        setattr(guarded, ACCESS_MARK, ("requires", permissions))
        return guarded
    return wrap


def requires_partner_admin(view):
    """A partner-level view (workspaces, users, branding): partner admins only. A change it makes may
    change what users see, so the kept identities are forgotten after it."""
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        who = acting()
        if not (who.kind == "user" and who.partner_admin):
            raise ApiError(403, "forbidden", "this needs a partner admin", [{"permission": "partner_admin"}])
        try:
            return view(*args, **kwargs)
        finally:
            if request.method not in SAFE_METHODS:
                accounts.forget()
    setattr(guarded, ACCESS_MARK, ("partner_admin",))
    return guarded


def requires_login(view):
    """A view for any authenticated caller; the view scopes what it shows to g.principal."""
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        signed_in()
        return view(*args, **kwargs)
    setattr(guarded, ACCESS_MARK, ("login",))
    return guarded


def public(view):
    """An open view (logging in, branding, the OpenAPI document)."""
    setattr(view, ACCESS_MARK, ("public",))
    return view
