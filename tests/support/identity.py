"""Users, sessions and keys for tests: a partner of the test's own, users in each role, and Flask test
clients logged in as them.

A client is logged in by the signed session cookie a login would give (the app's own serializer), not by
POST /api/v1/session: argon2 takes ~170 ms a check here, and the login itself is tested in
tests/designer/test_session_api.py. Every user made here has PASSWORD, hashed once per test run.
"""
from __future__ import annotations

import secrets
import uuid

from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from designer.access import CSRF_HEADER, KEY_HEADER, SESSION_COOKIE
from runtime import accounts, keys

PASSWORD = "test-password-0123"
KEYED_PATHS = ("/hooks/", "/api/ext/")  # where a client sends its hook key instead of its session
_hash: list[str] = []


def password_hash() -> str:
    if not _hash:
        _hash.append(accounts.hasher.hash(PASSWORD))
    return _hash[0]


def make_partner(rt, partner_id: str | None = None) -> str:
    partner_id = partner_id or f"p{uuid.uuid4().hex[:10]}"
    accounts.ensure_partner(rt, partner_id, f"Partner {partner_id}")
    return partner_id


def make_user(rt, partner: str, role: str, workspace: str | None = None, *, email: str | None = None,
              name: str = "") -> int:
    """A user of `partner`: role "admin" makes a partner admin, any other role a membership in `workspace`."""
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@{partner}.test"
    admin = role == accounts.ADMIN_ROLE
    memberships = {} if admin or workspace is None else {workspace: role}
    return accounts.create_user(rt, partner, email, PASSWORD, name=name, partner_admin=admin,
                                memberships=memberships, password_hash=password_hash())


def hook_key(rt, workspace: str, scopes=("hooks:write",)) -> str:
    """The secret of a new key of `workspace` (by default the one a webhook sender holds)."""
    return keys.create(rt, workspace, f"test {'+'.join(scopes)}", list(scopes), "tests")[1]


class Client(FlaskClient):
    """A test client that sends its `hook_key` to /hooks/ and /api/ext/ (unless the request names a key
    itself) and its session everywhere else, as a browser and a webhook sender would."""
    hook_key: str | None = None

    def open(self, *args, **kwargs):
        if self.hook_key and args and isinstance(args[0], str) and args[0].startswith(KEYED_PATHS):
            headers = Headers(kwargs.get("headers") or {})
            if KEY_HEADER not in headers and "Authorization" not in headers:
                headers[KEY_HEADER] = self.hook_key
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def client_for(app, user_id: int | None = None, workspace: str | None = None, hook_key: str | None = None) -> Client:
    """A client of `app` logged in as `user_id` (None: nobody), acting in `workspace`."""
    c = Client(app, app.response_class, use_cookies=True)
    if workspace is not None:
        c.environ_base["HTTP_X_CROSSDOCK_WORKSPACE"] = workspace
    c.hook_key = hook_key
    if user_id is not None:
        log_in(c, user_id)
    return c


def log_in(c: FlaskClient, user_id: int) -> str:
    """Give the client the session cookie of `user_id` and its CSRF header; the CSRF token."""
    app = c.application
    rt = app.extensions["crossdock.runtime"]
    ident = accounts.identity(rt, user_id)
    csrf = secrets.token_urlsafe(16)
    value = app.session_interface.get_signing_serializer(app).dumps(
        {"uid": user_id, "epoch": ident.epoch, "csrf": csrf, "_permanent": True})
    c.set_cookie(SESSION_COOKIE, value)
    c.environ_base["HTTP_" + CSRF_HEADER.upper().replace("-", "_")] = csrf
    return csrf


def twin(c: FlaskClient) -> Client:
    """Another client of the same app with the same login, workspace and hook key (its own cookie jar)."""
    other = Client(c.application, c.application.response_class, use_cookies=True)
    other.environ_base.update(c.environ_base)
    other.hook_key = getattr(c, "hook_key", None)
    cookie = c.get_cookie(SESSION_COOKIE)
    if cookie is not None:
        other.set_cookie(SESSION_COOKIE, cookie.value)
    return other


def login_as(app_or_client, role: str, workspace: str, partner: str | None = None) -> Client:
    """A new client logged in as a new user holding `role` in `workspace` (of the workspace's partner
    unless `partner` names another one: a stranger)."""
    app = getattr(app_or_client, "application", app_or_client)
    rt = app.extensions["crossdock.runtime"]
    partner = partner or (accounts.workspace_state(rt, workspace) or ("default",))[0]
    user_id = make_user(rt, partner, role, workspace if partner_of(rt, workspace) == partner else None)
    return client_for(app, user_id, workspace)


def partner_of(rt, workspace: str) -> str | None:
    state = accounts.workspace_state(rt, workspace)
    return state[0] if state else None
