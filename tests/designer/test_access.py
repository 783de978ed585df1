"""designer/access.py: every /api/v1 view is guarded; roles, keys and other partners get exactly what the
role table gives them (404 for a workspace one does not see, 403 for a missing permission); a suspended
workspace takes no changes; cross-site requests (foreign Origin, text/plain, no CSRF token) change nothing."""
from __future__ import annotations

import copy

import flask
import pytest
from sqlalchemy import update

from designer import access
from runtime import accounts
from runtime.models import Workspace
from support import identity
from support.flowdocs import done, edge
from web.app import create_app

FLOWS = "/api/v1/flows"


def mapped(flow_id: str, expression: str = "{'echo': $}") -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": f"Flow {flow_id}",
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": f"p-{flow_id}"}},
                      {"id": "map", "type": "transform.map", "config": {"expression": expression}}, done()],
            "edges": [edge(1, "hook", "map"), edge(2, "map", "done")]}


def test_every_api_view_carries_an_access_decorator(api):
    app = api.application
    unguarded = sorted(f"{sorted(rule.methods - {'HEAD', 'OPTIONS'})} {rule.rule}" for rule in app.url_map.iter_rules()
                       if rule.rule.startswith("/api/v1")
                       and not hasattr(app.view_functions[rule.endpoint], access.ACCESS_MARK))
    assert not unguarded, f"/api/v1 views without @requires/@requires_partner_admin/@public: {unguarded}"
    assert any(rule.rule.startswith("/api/v1") for rule in app.url_map.iter_rules())


def test_the_role_table_is_the_contracts():
    table = {role: sorted(perms) for role, perms in access.ROLE_PERMISSIONS.items()}
    assert table == {
        "viewer": ["flows:read", "runs:read"],
        "mapper": ["flows:read", "lookups:write", "mappings:write", "runs:read"],
        "operator": ["audit:read", "flows:read", "runs:read", "runs:write"],
        "consultant": ["audit:read", "connections:write", "flows:read", "flows:write", "lookups:write",
                       "mappings:write", "runs:read", "runs:write"]}
    assert access.PARTNER_PERMISSIONS == {"workspaces:write", "users:write", "partner:write"}
    assert access.WORKSPACE_PERMISSIONS - set().union(*access.ROLE_PERMISSIONS.values()) == {"keys:write", "hooks:write"}


def test_a_request_without_login_or_key_gets_401(api):
    anonymous = api.application.test_client()
    for method, path in (("get", FLOWS), ("post", FLOWS), ("get", "/api/v1/runs"), ("get", "/api/v1/node-types")):
        r = getattr(anonymous, method)(path, json={} if method == "post" else None)
        assert r.status_code == 401, (method, path, r.json)
        assert r.json["error"]["code"] == "not_authenticated"


def test_each_role_gets_what_the_table_gives_it(api, workspace):
    assert api.post(FLOWS, json=mapped("f1")).status_code == 201
    viewer, mapper = identity.login_as(api, "viewer", workspace), identity.login_as(api, "mapper", workspace)
    operator, consultant = identity.login_as(api, "operator", workspace), identity.login_as(api, "consultant", workspace)
    for c in (viewer, mapper, operator, consultant):
        assert c.get(FLOWS).status_code == 200
        assert c.get("/api/v1/runs").status_code == 200
    for c in (viewer, mapper, operator):
        r = c.post(FLOWS, json=mapped("nope"))
        assert r.status_code == 403 and r.json["error"] == {
            "code": "forbidden", "message": "this needs the permission flows:write",
            "details": [{"permission": "flows:write"}]}
        assert c.post(f"{FLOWS}/f1/deploy").status_code == 403
    assert consultant.post(f"{FLOWS}/f1/deploy").status_code == 201
    assert viewer.put("/api/v1/lookups/xref", json={"rows": {"a": "b"}}).status_code == 403
    assert mapper.put("/api/v1/lookups/xref", json={"rows": {"a": "b"}}).status_code == 200
    assert viewer.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "http://erp.example"}).status_code == 403
    assert mapper.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "http://erp.example"}).status_code == 403
    assert viewer.post(f"{FLOWS}/f1/runs", json={"input": {}}).status_code == 403
    assert operator.post(f"{FLOWS}/f1/runs", json={"input": {}}).status_code == 202
    assert api.get(FLOWS).status_code == 200  # the partner admin holds everything


def test_a_mapper_saves_mapping_edits_and_nothing_else(api, workspace):
    doc = api.post(FLOWS, json=mapped("f1")).json["flow"]
    mapper = identity.login_as(api, "mapper", workspace)
    edited = copy.deepcopy(doc)
    next(n for n in edited["nodes"] if n["id"] == "map")["config"]["expression"] = "{'changed': $}"
    r = mapper.put(f"{FLOWS}/f1", json=edited)
    assert r.status_code == 200, r.json
    assert next(n for n in r.json["flow"]["nodes"] if n["id"] == "map")["config"]["expression"] == "{'changed': $}"
    rebuilt = copy.deepcopy(r.json["flow"])
    rebuilt["nodes"].append({"id": "extra", "type": "control.discard", "config": {"reason": "x"}})
    r = mapper.put(f"{FLOWS}/f1", json=rebuilt)
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert any(d.get("node") == "extra" for d in r.json["error"]["details"]), r.json
    assert all(n["id"] != "extra" for n in api.get(f"{FLOWS}/f1").json["flow"]["nodes"])
    assert identity.login_as(api, "viewer", workspace).put(f"{FLOWS}/f1", json=edited).status_code == 403


def test_another_partners_users_see_no_workspace_of_ours(api, workspace):
    assert api.post(FLOWS, json=mapped("f1")).status_code == 201
    rt = api.application.extensions["crossdock.runtime"]
    stranger_partner = identity.make_partner(rt)
    for role in ("admin", "consultant"):
        stranger = identity.login_as(api, role, workspace, partner=stranger_partner)
        for method, path in (("get", FLOWS), ("get", f"{FLOWS}/f1"), ("post", f"{FLOWS}/f1/deploy"),
                             ("delete", f"{FLOWS}/f1"), ("get", "/api/v1/runs/1")):
            r = getattr(stranger, method)(path)
            assert r.status_code == 404, (role, method, path, r.json)
            assert r.json["error"]["code"] == "unknown_workspace"
    assert api.get(f"{FLOWS}/f1").status_code == 200


def test_a_user_acts_in_their_own_workspace_without_the_header(api, workspace):
    rt = api.application.extensions["crossdock.runtime"]
    user = identity.make_user(rt, identity.partner_of(rt, workspace), "viewer", workspace)
    c = identity.client_for(api.application, user)  # no X-Crossdock-Workspace
    assert c.post(FLOWS, json=mapped("f1")).status_code == 403  # resolved to the workspace, where it is a viewer
    assert api.post(FLOWS, json=mapped("f1")).status_code == 201
    assert [f["id"] for f in c.get(FLOWS).json["flows"]] == ["f1"]
    assert c.get(FLOWS, headers={"X-Crossdock-Workspace": "default"}).status_code == 404


def test_a_keys_scopes_and_workspace_bound_it(api, workspace):
    rt = api.application.extensions["crossdock.runtime"]
    assert api.post(FLOWS, json=mapped("f1")).status_code == 201
    reader = identity.hook_key(rt, workspace, scopes=("runs:read",))
    anonymous = api.application.test_client()
    assert anonymous.get("/api/v1/runs", headers={"Authorization": f"Bearer {reader}"}).status_code == 200
    assert anonymous.get("/api/v1/runs", headers={"X-Crossdock-Key": reader}).status_code == 200
    r = anonymous.get(FLOWS, headers={"X-Crossdock-Key": reader})
    assert r.status_code == 403 and r.json["error"]["details"] == [{"permission": "flows:read"}]
    assert anonymous.post(FLOWS, json=mapped("f2"), headers={"X-Crossdock-Key": reader}).status_code == 403
    other = f"{workspace}-b"
    rt.ensure_workspace(other, partner_id=identity.partner_of(rt, workspace))
    r = anonymous.get("/api/v1/runs", headers={"X-Crossdock-Key": reader, "X-Crossdock-Workspace": other})
    assert r.status_code == 404 and r.json["error"]["code"] == "unknown_workspace"
    writer = identity.hook_key(rt, workspace, scopes=("flows:read", "flows:write"))
    assert anonymous.post(FLOWS, json=mapped("f2"), headers={"X-Crossdock-Key": writer}).status_code == 201  # no CSRF
    hooks_only = identity.hook_key(rt, workspace)
    assert anonymous.get("/api/v1/runs", headers={"X-Crossdock-Key": hooks_only}).status_code == 403
    bad = anonymous.get("/api/v1/runs", headers={"X-Crossdock-Key": reader[:-2] + "xx"})
    assert bad.status_code == 401 and bad.json["error"]["code"] == "not_authenticated"
    # a key that is not valid is refused even beside a valid session: it never falls back to the cookie
    assert api.get(FLOWS, headers={"Authorization": "Bearer cdk_nonsense"}).status_code == 401


def test_a_suspended_workspace_takes_no_changes(api, workspace):
    assert api.post(FLOWS, json=mapped("f1")).status_code == 201
    rt = api.application.extensions["crossdock.runtime"]
    consultant = identity.login_as(api, "consultant", workspace)
    with rt.sessions.begin() as s:
        s.execute(update(Workspace).where(Workspace.id == workspace).values(status="suspended"))
    accounts.forget()
    for c in (api, consultant):
        r = c.post(FLOWS, json=mapped("f2"))
        assert r.status_code == 403 and r.json["error"]["code"] == "workspace_suspended", r.json
        assert c.post(f"{FLOWS}/f1/deploy").status_code == 403
        assert c.get(FLOWS).status_code == 200
    assert [f["id"] for f in api.get(FLOWS).json["flows"]] == ["f1"]


def test_a_cross_site_text_plain_post_changes_nothing(api, workspace):
    """The attack of issue 11: a page on another site posts text/plain with the victim's cookie."""
    assert api.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "http://erp.example"}).status_code == 200
    before = api.get("/api/v1/connections/erp").json
    victim = identity.twin(api)
    victim.environ_base.pop("HTTP_X_CROSSDOCK_CSRF")  # the attacker's page cannot know the token
    attack = {"data": '{"schema": "crossdock.flow/1", "id": "evil", "name": "evil", "nodes": [], "edges": []}',
              "content_type": "text/plain"}
    for origin in ({"Origin": "http://evil.example"}, {}):
        for path in (FLOWS, f"{FLOWS}/evil/deploy"):
            r = victim.post(path, headers=origin, **attack)
            assert r.status_code in (403, 415), r.json
        r = victim.put("/api/v1/connections/erp", headers=origin, content_type="text/plain",
                       data='{"system": "erp", "base_url": "http://evil.example"}')
        assert r.status_code in (403, 415), r.json
    r = victim.post(FLOWS, headers={"Origin": "http://evil.example"}, **attack)
    assert r.status_code == 403 and r.json["error"]["code"] == "cross_origin"
    r = victim.post(FLOWS, json={"schema": "crossdock.flow/1", "id": "evil", "name": "evil", "nodes": [], "edges": []})
    assert r.status_code == 403 and r.json["error"]["code"] == "csrf_failed"  # JSON, same site, but no token
    r = victim.post(FLOWS, json=mapped("evil"), headers={"X-Crossdock-CSRF": "guessed"})
    assert r.status_code == 403 and r.json["error"]["code"] == "csrf_failed"
    assert api.get(FLOWS).json["flows"] == []
    assert api.get("/api/v1/connections/erp").json == before


def test_same_origin_requests_with_the_token_pass(api):
    r = api.post(FLOWS, json=mapped("f1"), headers={"Origin": "http://localhost"})
    assert r.status_code == 201, r.json
    assert api.get(FLOWS, headers={"Origin": "null"}).status_code == 403  # a sandboxed frame is no origin of ours


def test_a_csv_upload_is_the_one_other_body_a_change_takes(api):
    r = api.post("/api/v1/lookups/xref/import", data="key,value\nA,1\n", content_type="text/csv")
    assert r.status_code == 201, r.json
    r = api.post("/api/v1/lookups/xref/import", data="key,value\nA,1\n", content_type="text/plain")
    assert r.status_code == 415
    victim = identity.twin(api)
    victim.environ_base.pop("HTTP_X_CROSSDOCK_CSRF")
    r = victim.post("/api/v1/lookups/xref/import", data="key,value\nA,2\n", content_type="text/csv")
    assert r.status_code == 403 and r.json["error"]["code"] == "csrf_failed"
    assert api.get("/api/v1/lookups/xref").json["rows"] == {"A": "1"}


@pytest.mark.parametrize("path", ["/hooks/ws/orders", "/api/ext/ws/v1/orders"])
def test_keyed_paths_never_read_the_session_cookie(store, path):
    """Webhook intake pays for no session: the cookie is not even verified there."""
    app = create_app(store)
    cookie = app.session_interface.get_signing_serializer(app).dumps({"uid": 1, "epoch": 0, "csrf": "t"})
    with app.test_request_context(path, headers={"Cookie": f"crossdock_session={cookie}"}):
        assert dict(app.session_interface.open_session(app, flask.request)) == {}
    with app.test_request_context(FLOWS, headers={"Cookie": f"crossdock_session={cookie}"}):
        assert dict(app.session_interface.open_session(app, flask.request)) == {"uid": 1, "epoch": 0, "csrf": "t"}
