"""The keys API: partner admins list, create (the secret shown once) and revoke a workspace's keys; the key
works at once and stops at once; other roles get 403, other partners 404."""
from __future__ import annotations

from support import identity
from support.flowdocs import http_sink, order


def test_a_partner_admin_creates_a_key_that_works_and_revokes_it(api, workspace):
    assert api.get("/api/v1/keys/scopes").json["scopes"] == ["flows:read", "runs:read", "mappings:write",
                                                            "lookups:write", "runs:write", "flows:write",
                                                            "connections:write", "audit:read", "hooks:write"]
    before = {k["id"] for k in api.get("/api/v1/keys").json["keys"]}  # the fixture's hook key
    r = api.post("/api/v1/keys", json={"name": "shop", "scopes": ["hooks:write", "flows:read"]})
    assert r.status_code == 201, r.json
    key, secret = r.json["key"], r.json["secret"]
    assert secret.startswith(f"cdk_{key['id']}_")
    assert key["name"] == "shop" and key["scopes"] == ["flows:read", "hooks:write"]
    assert key["created_by"].startswith("admin@") and key["revoked_at"] is None and key["last_used_at"] is None
    listed = {k["id"]: k for k in api.get("/api/v1/keys").json["keys"]}
    assert set(listed) == before | {key["id"]}
    assert "secret" not in listed[key["id"]] and secret not in str(api.get("/api/v1/keys").data)

    caller = identity.client_for(api.application)  # nobody logged in: the key alone
    assert api.post("/api/v1/flows", json=http_sink("f", "http://127.0.0.1:9/x")).status_code == 201
    assert api.post("/api/v1/flows/f/deploy").status_code == 201
    assert caller.get("/api/v1/flows", headers={"X-Crossdock-Key": secret}).status_code == 200
    with_key = {"X-Crossdock-Key": secret}
    assert caller.post(f"/hooks/{workspace}/orders", json=order("K"), headers=with_key).status_code == 202
    assert caller.get("/api/v1/runs", headers={"X-Crossdock-Key": secret}).status_code == 403  # no runs:read
    assert {k["id"]: k for k in api.get("/api/v1/keys").json["keys"]}[key["id"]]["last_used_at"] is not None

    assert api.delete(f"/api/v1/keys/{key['id']}").status_code == 204
    assert caller.get("/api/v1/flows", headers={"X-Crossdock-Key": secret}).status_code == 401
    assert caller.post(f"/hooks/{workspace}/orders", json=order("K"), headers=with_key).status_code == 401
    revoked = {k["id"]: k for k in api.get("/api/v1/keys").json["keys"]}[key["id"]]
    assert revoked["revoked_at"] is not None
    assert api.delete(f"/api/v1/keys/{key['id']}").status_code == 204  # revoking twice keeps the first time
    assert api.delete("/api/v1/keys/k_0000000000").status_code == 404


def test_bad_requests_are_400_with_the_field(api):
    for body, field in (({"name": "x", "scopes": ["root"]}, "scopes"), ({"name": "x", "scopes": []}, "scopes"),
                        ({"name": "x", "scopes": ["keys:write"]}, "scopes"), ({"scopes": ["runs:read"]}, "name"),
                        ({"name": "x" * 201, "scopes": ["runs:read"]}, "name")):
        r = api.post("/api/v1/keys", json=body)
        assert r.status_code == 400, body
        assert r.json["error"]["code"] == "invalid_argument" and r.json["error"]["details"] == [{"field": field}]
    assert api.post("/api/v1/keys", json=["x"]).status_code == 400


def test_only_partner_admins_manage_keys_and_other_partners_see_no_workspace(api, workspace):
    for role in ("consultant", "mapper", "operator", "viewer"):
        c = identity.login_as(api, role, workspace)
        assert c.get("/api/v1/keys").status_code == 403, role
        r = c.post("/api/v1/keys", json={"name": "x", "scopes": ["runs:read"]})
        assert (r.status_code, r.json["error"]["details"]) == (403, [{"permission": "keys:write"}]), role
    stranger = identity.login_as(api, "admin", workspace, partner=identity.make_partner(
        api.application.extensions["crossdock.runtime"]))
    assert stranger.get("/api/v1/keys").status_code == 404
    mine = api.post("/api/v1/keys", json={"name": "x", "scopes": ["runs:read"]}).json["key"]["id"]
    assert stranger.delete(f"/api/v1/keys/{mine}").status_code == 404
    # a key, even one holding every scope it may, cannot manage keys
    every = api.post("/api/v1/keys", json={"name": "all", "scopes": api.get("/api/v1/keys/scopes").json["scopes"]})
    machine = identity.client_for(api.application)
    machine.environ_base["HTTP_X_CROSSDOCK_KEY"] = every.json["secret"]
    assert machine.get("/api/v1/keys").status_code == 403
