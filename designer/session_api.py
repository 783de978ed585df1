"""HTTP API of browser sessions: log in (a signed cookie plus the CSRF token the page sends back), who is
logged in, log out, change one's password (docs/api.md, "Sessions")."""
from __future__ import annotations

import secrets

from flask import Blueprint, g, session

from designer import access
from designer.access import public, requires_login
from designer.errors import ApiError
from designer.request_context import body, runtime
from runtime import accounts

bp = Blueprint("session_api", __name__, url_prefix="/api/v1/session")


@bp.post("")
@public
def log_in():
    args = body()
    if not isinstance(args, dict) or not isinstance(args.get("email"), str) or not isinstance(args.get("password"), str):
        raise ApiError(400, "invalid_argument", 'the body is {"email": "...", "password": "..."}',
                       [{"field": "email"}])
    if "\x00" in args["email"]:  # PostgreSQL text cannot hold NUL: the user lookup and the audit trail would fail
        raise ApiError(400, "invalid_argument", "the email holds a NUL character", [{"field": "email"}])
    g.login_email = accounts.normal_email(args["email"])[:254]  # the audit trail names failed attempts by it
    rt = runtime()
    result = accounts.login(rt, args["email"], args["password"])
    if result.outcome == "locked":
        raise ApiError(423, "account_locked", f"too many failed logins: the account is locked for "
                                              f"{int(accounts.LOCK_FOR.total_seconds() // 60)} minutes")
    if result.outcome != "ok":
        raise ApiError(401, "invalid_credentials", "the email or the password is not right")
    session.clear()
    session.permanent = True
    session.update(uid=result.user_id, epoch=result.epoch, csrf=secrets.token_urlsafe(32))
    g.principal = access.principal_for_user(rt, result.user_id, result.epoch)
    return describe()


@bp.get("")
@public
def whoami():
    who = access.principal()
    if who is None or who.kind != "user":
        raise ApiError(401, "not_authenticated", "no one is logged in")
    return describe()


@bp.delete("")
@public
def log_out():
    access.principal()  # a logged-in session's DELETE needs its CSRF token like any change
    session.clear()
    return "", 204


@bp.post("/password")
@requires_login
def change_password():
    who = access.principal()
    if who.kind != "user":
        raise ApiError(403, "forbidden", "an API key has no password")
    args = body()
    if not isinstance(args, dict) or not all(isinstance(args.get(k), str) for k in ("current_password", "new_password")):
        raise ApiError(400, "invalid_argument", 'the body is {"current_password": "...", "new_password": "..."}',
                       [{"field": "new_password"}])
    rt = runtime()
    try:
        changed = accounts.change_password(rt, who.user_id, args["current_password"], args["new_password"])
    except accounts.AccountProblem as err:
        raise ApiError(400, err.code, str(err), [{"field": "new_password"}]) from None
    if not changed:
        raise ApiError(403, "invalid_credentials", "the current password is not right",
                       [{"field": "current_password"}])
    ident = accounts.identity(rt, who.user_id)
    if who.by_cookie and ident is not None:  # this session goes on; every other one of the user ended
        session["epoch"] = ident.epoch
    return "", 204


def describe() -> dict:
    ident = accounts.identity(runtime(), g.principal.user_id)
    return {"user": {"id": ident.user_id, "email": ident.email, "name": ident.name, "partner_id": ident.partner_id,
                     "partner_admin": ident.partner_admin, "must_change_password": ident.must_change_password},
            "csrf_token": session.get("csrf"),
            "workspaces": [{"id": ws, "name": name, "role": role, "status": status}
                           for ws, (role, status, name) in ident.workspaces.items()]}
