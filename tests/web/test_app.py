"""web.app.create_app: the runtime and limits wired in, the API blueprints registered, JSON kept in the
order the document model writes it, and the workspace header choosing (or refusing) a workspace."""
from __future__ import annotations

import json

from support import identity
from support.flowdocs import http_sink

from runtime.wiring import Runtime
from web.app import create_app

FLOW = http_sink("wired", "http://127.0.0.1:9/erp")


def test_the_app_carries_the_runtime_and_its_body_limit(make_settings):
    rt = Runtime(make_settings(max_body_bytes=4321))
    app = create_app(rt)
    rt.close()
    assert app.extensions["crossdock.runtime"] is rt
    assert app.config["MAX_CONTENT_LENGTH"] == 4321
    assert {"palette_api", "flows_api", "runs_api", "hooks", "canvas"} <= set(app.blueprints)
    adapter = app.url_map.bind("localhost")
    for method, url, blueprint in (("GET", "/api/v1/node-types", "palette_api"),
                                   ("POST", "/api/v1/flows/f/deploy", "flows_api"),
                                   ("GET", "/api/v1/runs/7", "runs_api"), ("POST", "/hooks/ws/orders", "hooks")):
        endpoint, _args = adapter.match(url, method)
        assert endpoint.split(".")[0] == blueprint, url


def test_responses_keep_the_key_order_of_the_document(api):
    api.post("/api/v1/flows", json=FLOW)
    text = api.get("/api/v1/flows/wired").get_data(as_text=True)
    body = json.loads(text)
    assert list(body) == ["flow", "revision", "updated_at", "deployed_version", "problems"]
    assert list(body["flow"])[:3] == ["schema", "id", "name"]  # as flows.document.dump orders it, not sorted
    assert list(body["flow"]["nodes"][0])[:3] == ["id", "type", "type_version"]


def test_an_unknown_workspace_is_404_unknown_workspace(api):
    api.post("/api/v1/flows", json=FLOW)
    ghost = {"X-Crossdock-Workspace": "no-such-workspace"}
    for method, url in (("get", "/api/v1/flows"), ("post", "/api/v1/flows"), ("get", "/api/v1/flows/wired"),
                        ("put", "/api/v1/flows/wired"), ("delete", "/api/v1/flows/wired"),
                        ("post", "/api/v1/flows/wired/deploy"), ("post", "/api/v1/flows/wired/runs"),
                        ("get", "/api/v1/runs"), ("get", "/api/v1/runs/1"), ("get", "/api/v1/dead-letters")):
        r = getattr(api, method)(url, json=FLOW, headers=ghost)
        assert r.status_code == 404, (method, url, r.json)
        assert r.json["error"]["code"] == "unknown_workspace"
        assert r.json["error"]["details"] == [{"field": "X-Crossdock-Workspace"}]
    assert api.get("/api/v1/flows/wired").json["revision"] == 1  # nothing reached the real one


def test_without_the_header_requests_go_to_the_callers_default_workspace(api, store, workspace):
    """`default` for a user who sees it, else their first workspace."""
    api.post("/api/v1/flows", json=FLOW)
    default_admin = identity.client_for(api.application, identity.make_user(store, "default", "admin"))
    assert "wired" not in [f["id"] for f in default_admin.get("/api/v1/flows").json["flows"]]
    assert default_admin.get("/api/v1/flows/wired").status_code == 404
    ours = identity.twin(api)
    del ours.environ_base["HTTP_X_CROSSDOCK_WORKSPACE"]  # the test partner's only workspace is the test's
    assert [f["id"] for f in ours.get("/api/v1/flows").json["flows"]] == ["wired"]
