"""/api/v1/session (designer/session_api.py, runtime/accounts.py): logging in with a password into a signed
HttpOnly cookie plus a CSRF token, the lockout after 5 failures in a row (whose answer never tells whether
the password was right), logging out, and a password change that ends the user's other sessions."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from runtime import accounts
from runtime.identity_models import User
from runtime.models import utcnow
from support import identity
from web.app import create_app

SESSION = "/api/v1/session"


@pytest.fixture
def user(api, workspace):
    """(email, a fresh client of the app nobody is logged in to) for a consultant of the test workspace."""
    rt = api.application.extensions["crossdock.runtime"]
    email = f"Pat.Doe-{workspace}@Example.test"
    identity.make_user(rt, identity.partner_of(rt, workspace), "consultant", workspace, email=email, name="Pat")
    c = identity.client_for(api.application, workspace=workspace)
    return email, c


def log_in(c, email, password=identity.PASSWORD):
    r = c.post(SESSION, json={"email": email, "password": password})
    if r.status_code == 200:
        c.environ_base["HTTP_X_CROSSDOCK_CSRF"] = r.json["csrf_token"]
    return r


def test_logging_in_gives_a_cookie_the_user_and_their_workspaces(api, user, workspace, settings):
    email, c = user
    assert c.get("/api/v1/flows").status_code == 401
    r = log_in(c, email.upper())  # emails are matched without case
    assert r.status_code == 200, r.json
    assert r.json["user"] == {"id": r.json["user"]["id"], "email": email.lower(), "name": "Pat",
                              "partner_id": identity.partner_of(api.application.extensions["crossdock.runtime"],
                                                                workspace),
                              "partner_admin": False, "must_change_password": False}
    assert r.json["workspaces"] == [{"id": workspace, "name": workspace, "role": "consultant", "status": "active"}]
    assert len(r.json["csrf_token"]) >= 32
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("crossdock_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # the embedded default serves plain HTTP; production (PostgreSQL + Redis) is behind TLS
    assert ("Secure" in cookie) == (settings.database_url != "") == settings.secure_cookies
    assert c.get(SESSION).json == r.json
    assert c.get("/api/v1/flows").status_code == 200
    assert c.post("/api/v1/flows/validate", json={}).status_code == 200


def test_the_cookie_is_secure_when_the_settings_say_so(make_settings, workspace):
    from runtime.wiring import Runtime

    rt = Runtime(make_settings(cookie_secure=True, session_hours=1))
    try:
        partner = identity.make_partner(rt)
        rt.ensure_workspace(workspace, partner_id=partner)
        email = f"sec-{workspace}@example.test"
        identity.make_user(rt, partner, "viewer", workspace, email=email)
        r = create_app(rt).test_client().post(SESSION, json={"email": email, "password": identity.PASSWORD})
        assert r.status_code == 200
        assert "Secure" in r.headers["Set-Cookie"]
        expires = dt.datetime.strptime(r.headers["Set-Cookie"].split("Expires=")[1].split(";")[0],
                                       "%a, %d %b %Y %H:%M:%S GMT")
        assert dt.timedelta(minutes=50) < expires - utcnow() <= dt.timedelta(hours=1)
    finally:
        rt.close()


def test_wrong_passwords_and_unknown_emails_get_the_same_401(user):
    email, c = user
    for body in ({"email": email, "password": "not-the-password"}, {"email": "nobody@example.test",
                                                                     "password": identity.PASSWORD}):
        r = c.post(SESSION, json=body)
        assert r.status_code == 401
        assert r.json["error"] == {"code": "invalid_credentials", "message": "the email or the password is not right"}
    assert "Set-Cookie" not in r.headers
    for bad in ({"email": email}, {"email": email, "password": 5}, [], None):
        assert c.post(SESSION, json=bad).status_code == 400
    # PostgreSQL text cannot hold NUL: a 400 naming the field, not a 500 from the lookup or the audit trail
    r = c.post(SESSION, json={"email": "a\u0000@x.test", "password": "whatever-123"})
    assert (r.status_code, r.json["error"]["code"], r.json["error"]["details"]) == (
        400, "invalid_argument", [{"field": "email"}])
    assert c.get(SESSION).status_code == 401


def test_five_failures_in_a_row_lock_the_account_for_15_minutes(api, user):
    email, c = user
    for _ in range(4):
        assert log_in(c, email, "wrong-password").status_code == 401
    assert log_in(c, email).status_code == 200  # a success resets the count
    for _ in range(4):
        assert log_in(c, email, "wrong-password").status_code == 401
    r = log_in(c, email, "wrong-password")
    assert r.status_code == 423 and r.json["error"]["code"] == "account_locked"
    right, wrong = log_in(c, email), log_in(c, email, "wrong-password")
    assert right.status_code == wrong.status_code == 423 and right.json == wrong.json  # says nothing of the password
    rt = api.application.extensions["crossdock.runtime"]
    locked_until = accounts.find(rt, email).locked_until
    assert dt.timedelta(minutes=14) < locked_until - utcnow() <= dt.timedelta(minutes=15)
    with rt.sessions.begin() as s:  # the 15 minutes pass
        s.execute(update(User).where(User.email == email.lower()).values(locked_until=utcnow() - dt.timedelta(seconds=1)))
    assert log_in(c, email).status_code == 200
    assert accounts.find(rt, email).failed_logins == 0


def test_logging_out_ends_the_session(user):
    email, c = user
    log_in(c, email)
    assert c.delete(SESSION, headers={"X-Crossdock-CSRF": "wrong"}).status_code == 403  # a change like any other
    assert c.delete(SESSION).status_code == 204
    assert c.get(SESSION).status_code == 401
    assert c.get("/api/v1/flows").status_code == 401
    assert c.delete(SESSION).status_code == 204  # logged out already: nothing to do


def test_a_password_change_ends_every_other_session(api, user):
    email, c = user
    log_in(c, email)
    other = identity.twin(c)  # the same user in another browser
    assert other.get("/api/v1/flows").status_code == 200
    r = c.post(f"{SESSION}/password", json={"current_password": "not-it-at-all", "new_password": "a-new-password-1"})
    assert r.status_code == 403 and r.json["error"]["code"] == "invalid_credentials"
    r = c.post(f"{SESSION}/password", json={"current_password": identity.PASSWORD, "new_password": "short"})
    assert r.status_code == 400 and r.json["error"]["code"] == "weak_password"
    assert other.get("/api/v1/flows").status_code == 200  # refused changes end nothing
    r = c.post(f"{SESSION}/password", json={"current_password": identity.PASSWORD, "new_password": "a-new-password-1"})
    assert r.status_code == 204, r.json
    assert c.get("/api/v1/flows").status_code == 200  # this session goes on with a new cookie
    assert other.get("/api/v1/flows").status_code == 401
    assert other.get(SESSION).status_code == 401
    fresh = identity.client_for(api.application)
    assert log_in(fresh, email).status_code == 401
    assert log_in(fresh, email, "a-new-password-1").status_code == 200


def test_a_password_change_needs_a_login_and_its_token(user):
    email, c = user
    body = {"current_password": identity.PASSWORD, "new_password": "a-new-password-1"}
    assert c.post(f"{SESSION}/password", json=body).status_code == 401
    log_in(c, email)
    r = c.post(f"{SESSION}/password", json=body, headers={"X-Crossdock-CSRF": ""})
    assert r.status_code == 403 and r.json["error"]["code"] == "csrf_failed"
    assert log_in(identity.client_for(c.application), email).status_code == 200  # unchanged


def test_a_login_from_another_site_is_refused(user):
    email, c = user
    r = c.post(SESSION, json={"email": email, "password": identity.PASSWORD}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and r.json["error"]["code"] == "cross_origin"
    r = c.post(SESSION, data=f'{{"email": "{email}", "password": "{identity.PASSWORD}"}}', content_type="text/plain")
    assert r.status_code == 415
    assert c.get(SESSION).status_code == 401


def test_the_first_start_makes_the_admin_and_the_samples_hook_key_once(store):
    """accounts.bootstrap on a database with no user yet (the test fixtures' users are made after it)."""
    from sqlalchemy import delete, select

    from runtime.identity_models import ApiKey, Membership

    with store.sessions.begin() as s:  # this test's own database state: no users at all
        if s.execute(select(User.id).where(User.email == "admin@localhost")).first() is not None:
            pytest.fail("admin@localhost exists before the first start")
        others = s.execute(select(User.id)).scalars().all()
    if others:  # the shared PostgreSQL schema holds other tests' users: bootstrap must then do nothing
        assert accounts.bootstrap(store) is None
        return
    first = accounts.bootstrap(store)
    try:
        assert first.email == "admin@localhost" and len(first.password) >= 16
        assert accounts.bootstrap(store) is None  # shown once
        app = create_app(store)
        c = app.test_client()
        r = c.post(SESSION, json={"email": first.email, "password": first.password})
        assert r.status_code == 200 and r.json["user"]["partner_admin"] and r.json["user"]["partner_id"] == "default"
        assert {"id": "default", "name": "Default workspace", "role": "admin", "status": "active"} in r.json["workspaces"]
        with store.sessions() as s:
            key = s.execute(select(ApiKey).where(ApiKey.name == "samples")).scalar_one()
        assert key.workspace == "default" and key.scopes == ["hooks:write"]
        assert first.hook_key.startswith(f"cdk_{key.id}_")
    finally:
        with store.sessions.begin() as s:
            s.execute(delete(ApiKey).where(ApiKey.name == "samples", ApiKey.workspace == "default"))
            ids = s.execute(select(User.id).where(User.email == "admin@localhost")).scalars().all()
            s.execute(delete(Membership).where(Membership.user_id.in_(ids)))
            s.execute(delete(User).where(User.id.in_(ids)))


def test_guessing_the_current_password_of_a_session_locks_the_account_too(user):
    """A stolen session cannot try passwords without end through the password change."""
    email, c = user
    log_in(c, email)
    for _ in range(5):
        r = c.post(f"{SESSION}/password", json={"current_password": "a-wrong-guess", "new_password": "a-new-password-1"})
        assert r.status_code == 403
    r = c.post(f"{SESSION}/password", json={"current_password": identity.PASSWORD, "new_password": "a-new-password-1"})
    assert r.status_code == 403  # locked: the right password changes nothing either
    assert log_in(identity.client_for(c.application), email).status_code == 423


def test_a_one_time_password_opens_nothing_but_the_password_change(api, workspace):
    """A user made with a generated password (users API, create-admin) must choose their own before the
    server serves them anything else: the browser's forced change is not the only guard."""
    email = f"new-{workspace}@example.test"
    made = api.post("/api/v1/users", json={"email": email, "memberships": [{"workspace": workspace,
                                                                              "role": "consultant"}]})
    assert made.status_code == 201, made.json
    c = identity.client_for(api.application, workspace=workspace)
    r = log_in(c, email, made.json["password"])
    assert r.status_code == 200 and r.json["user"]["must_change_password"] is True
    for method, path in (("GET", "/api/v1/flows"), ("POST", "/api/v1/flows/validate"), ("GET", "/api/v1/users")):
        r = c.open(path, method=method, json={} if method == "POST" else None)
        assert (r.status_code, r.json["error"]["code"]) == (403, "password_change_required"), (method, path)
    assert c.get(SESSION).status_code == 200 and c.get("/api/v1/workspaces").status_code == 200
    r = c.post(f"{SESSION}/password", json={"current_password": made.json["password"],
                                            "new_password": "my-own-password-1"})
    assert r.status_code == 204, r.json
    assert c.get("/api/v1/flows").status_code == 200
