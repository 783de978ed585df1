"""Users API: a partner admin creates users (a one-time password when none is given), gives them roles in
the partner's own workspaces only, unlocks and resets them, and deletes them; emails are unique; the last
admin stays an admin; another partner's users are no users (404)."""
from __future__ import annotations

import uuid

import pytest

from runtime import accounts
from support import identity

USERS = "/api/v1/users"


@pytest.fixture
def stranger(api, store):
    """The admin of another partner, in a workspace of their own."""
    other = identity.make_partner(store)
    ws = f"x{other}"
    store.ensure_workspace(ws, partner_id=other)
    return identity.client_for(api.application, identity.make_user(store, other, "admin"), ws)


def email() -> str:
    return f"u{uuid.uuid4().hex[:8]}@customer.example"


def log_in(api, address: str, password: str):
    c = api.application.test_client()
    return c, c.post("/api/v1/session", json={"email": address, "password": password})


def test_create_with_a_generated_one_time_password(api, workspace):
    address = email()
    r = api.post(USERS, json={"email": address.upper(), "name": "Mia Mapper",
                              "memberships": [{"workspace": workspace, "role": "mapper"}]})
    assert r.status_code == 201, r.json
    user, password = r.json["user"], r.json["password"]
    assert user == {"id": user["id"], "email": address, "name": "Mia Mapper", "partner_admin": False, "locked": False,
                    "memberships": [{"workspace": workspace, "role": "mapper"}]}
    assert len(password) >= 12
    c, login = log_in(api, address, password)
    assert login.status_code == 200 and login.json["user"]["must_change_password"] is True
    assert [(w["id"], w["role"]) for w in login.json["workspaces"]] == [(workspace, "mapper")]


def test_create_with_a_given_password_returns_none(api):
    address = email()
    r = api.post(USERS, json={"email": address, "name": "", "password": "a-good-long-password"})
    assert r.status_code == 201 and "password" not in r.json
    _, login = log_in(api, address, "a-good-long-password")
    assert login.status_code == 200 and login.json["user"]["must_change_password"] is False


def test_the_list_holds_the_partners_users_only(api, stranger, workspace):
    mine = api.post(USERS, json={"email": email(), "name": "Mine",
                                 "memberships": [{"workspace": workspace, "role": "viewer"}]}).json["user"]
    theirs = stranger.post(USERS, json={"email": email(), "name": "Theirs"}).json["user"]
    listed = api.get(USERS).json["users"]
    assert mine in listed and all(u["id"] != theirs["id"] for u in listed)
    assert theirs["email"] not in api.get(USERS).get_data(as_text=True)
    assert all(u["partner_admin"] or u["memberships"] for u in listed)


def test_emails_are_unique_whatever_the_case_and_the_partner(api, stranger):
    address = email()
    assert api.post(USERS, json={"email": address, "name": "a"}).status_code == 201
    for c in (api, stranger):
        r = c.post(USERS, json={"email": f"  {address.upper()} ", "name": "b"})
        assert r.status_code == 409 and r.json["error"]["code"] == "conflict"


def test_memberships_only_in_the_partners_own_workspaces(api, stranger, workspace):
    theirs = stranger.environ_base["HTTP_X_CROSSDOCK_WORKSPACE"]
    for ws in (theirs, "no-such-workspace"):
        r = api.post(USERS, json={"email": email(), "name": "x", "memberships": [{"workspace": ws, "role": "viewer"}]})
        assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    user = api.post(USERS, json={"email": email(), "name": "x"}).json["user"]
    r = api.patch(f"{USERS}/{user['id']}", json={"memberships": [{"workspace": theirs, "role": "viewer"}]})
    assert r.status_code == 404
    assert [u for u in api.get(USERS).json["users"] if u["id"] == user["id"]][0]["memberships"] == []


@pytest.mark.parametrize("body", [
    {"email": "not-an-address", "name": "x"},
    {"email": 5, "name": "x"},
    {"name": "x"},
    {"email": "ok@x.example", "name": 5},
    {"email": "ok@x.example", "name": "x", "password": "short"},
    {"email": "ok@x.example", "name": "x", "partner_admin": "yes"},
    {"email": "ok@x.example", "name": "x", "memberships": [{"workspace": "w", "role": "admin"}]},
    {"email": "ok@x.example", "name": "x", "memberships": [{"workspace": 5, "role": "viewer"}]},
    {"email": "ok@x.example", "name": "x", "memberships": {"w": "viewer"}},
    {"email": "ok@x.example", "name": "x", "role": "viewer"},
    ["ok@x.example"],
])
def test_bad_users(api, body):
    r = api.post(USERS, json=body)
    assert r.status_code == 400, r.json


def test_a_membership_named_twice(api, workspace):
    r = api.post(USERS, json={"email": email(), "name": "x", "memberships": [
        {"workspace": workspace, "role": "viewer"}, {"workspace": workspace, "role": "mapper"}]})
    assert r.status_code == 400 and r.json["error"]["details"] == [{"field": "memberships[1].workspace"}]


def test_update_name_roles_and_admin_flag(api, store, workspace):
    other = f"o{uuid.uuid4().hex[:8]}"
    assert api.post("/api/v1/workspaces", json={"id": other, "name": "Other"}).status_code == 201
    user = api.post(USERS, json={"email": email(), "name": "x", "password": "chosen-password-1",  # not one-time
                                 "memberships": [{"workspace": workspace, "role": "viewer"}]}).json["user"]
    r = api.patch(f"{USERS}/{user['id']}", json={"name": "Olga Operator", "memberships": [
        {"workspace": other, "role": "operator"}, {"workspace": workspace, "role": "consultant"}]})
    assert r.status_code == 200, r.json
    assert r.json["user"]["name"] == "Olga Operator" and "password" not in r.json
    assert sorted((m["workspace"], m["role"]) for m in r.json["user"]["memberships"]) == sorted(
        [(other, "operator"), (workspace, "consultant")])
    # the new role applies to the user's next request
    c = identity.client_for(api.application, user["id"], workspace)
    assert c.post("/api/v1/flows", json={"schema": "crossdock.flow/1", "id": "made"}).status_code == 201
    assert api.patch(f"{USERS}/{user['id']}", json={"memberships": []}).json["user"]["memberships"] == []
    assert c.get("/api/v1/flows").status_code == 404  # no longer sees the workspace
    r = api.patch(f"{USERS}/{user['id']}", json={"partner_admin": True})
    assert r.json["user"]["partner_admin"] is True
    assert c.get("/api/v1/users").status_code == 200


def test_unlock_and_password_reset(api, store):
    address = email()
    user = api.post(USERS, json={"email": address, "name": "x", "password": "first-password-1"}).json["user"]
    for _ in range(accounts.MAX_FAILURES):
        log_in(api, address, "wrong-password-x")
    assert [u for u in api.get(USERS).json["users"] if u["id"] == user["id"]][0]["locked"] is True
    assert log_in(api, address, "first-password-1")[1].status_code == 423
    r = api.patch(f"{USERS}/{user['id']}", json={"unlock": True})
    assert r.status_code == 200 and r.json["user"]["locked"] is False
    session, login = log_in(api, address, "first-password-1")
    assert login.status_code == 200
    # a reset: the server makes the password (null), shows it once, and ends the user's sessions
    r = api.patch(f"{USERS}/{user['id']}", json={"password": None})
    assert r.status_code == 200 and len(r.json["password"]) >= 12
    assert session.get("/api/v1/session").status_code == 401
    _, login = log_in(api, address, r.json["password"])
    assert login.status_code == 200 and login.json["user"]["must_change_password"] is True
    r = api.patch(f"{USERS}/{user['id']}", json={"password": "chosen-by-the-admin"})
    assert r.status_code == 200 and "password" not in r.json
    assert log_in(api, address, "chosen-by-the-admin")[1].status_code == 200
    assert api.patch(f"{USERS}/{user['id']}", json={"password": "short"}).status_code == 400
    assert api.patch(f"{USERS}/{user['id']}", json={"unlock": False}).status_code == 400


def test_the_last_admin_stays_an_admin(api, admin_id, partner):
    r = api.patch(f"{USERS}/{admin_id}", json={"partner_admin": False})
    assert r.status_code == 409 and r.json["error"]["code"] == "last_admin"
    assert api.delete(f"{USERS}/{admin_id}").status_code == 409
    second = api.post(USERS, json={"email": email(), "name": "second", "partner_admin": True,
                                   "password": "chosen-password-1"}).json["user"]
    assert api.patch(f"{USERS}/{admin_id}", json={"partner_admin": False}).status_code == 200
    # no longer an admin: this client may not manage users any more, the second admin may
    assert api.get(USERS).status_code == 403
    other = identity.client_for(api.application, second["id"])
    r = other.patch(f"{USERS}/{second['id']}", json={"partner_admin": False})
    assert r.status_code == 409 and r.json["error"]["code"] == "last_admin"
    assert other.delete(f"{USERS}/{admin_id}").status_code == 204


def test_delete(api, store):
    address = email()
    user = api.post(USERS, json={"email": address, "name": "x", "password": "first-password-1"}).json["user"]
    session, _ = log_in(api, address, "first-password-1")
    assert api.delete(f"{USERS}/{user['id']}").status_code == 204
    assert all(u["id"] != user["id"] for u in api.get(USERS).json["users"])
    assert session.get("/api/v1/session").status_code == 401  # the session ended with the user
    assert api.delete(f"{USERS}/{user['id']}").status_code == 404
    assert api.post(USERS, json={"email": address, "name": "again"}).status_code == 201  # the address is free


def test_another_partners_users_are_no_users(api, stranger):
    theirs = stranger.post(USERS, json={"email": email(), "name": "Theirs"}).json["user"]
    for r in (api.patch(f"{USERS}/{theirs['id']}", json={"name": "mine now"}),
              api.patch(f"{USERS}/{theirs['id']}", json={"unlock": True}),
              api.delete(f"{USERS}/{theirs['id']}")):
        assert r.status_code == 404 and theirs["email"] not in r.get_data(as_text=True)
    assert [u for u in stranger.get(USERS).json["users"] if u["id"] == theirs["id"]][0]["name"] == "Theirs"


def test_only_a_partner_admin_manages_users(api, workspace):
    consultant = identity.login_as(api, "consultant", workspace)
    assert consultant.get(USERS).status_code == 403
    assert consultant.post(USERS, json={"email": email(), "name": "x"}).status_code == 403
    assert api.patch(f"{USERS}/99999999", json={"name": "x"}).status_code == 404
    assert api.patch(f"{USERS}/abc", json={"name": "x"}).status_code == 404
