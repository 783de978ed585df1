"""Experience APIs: publishing a deployed webhook flow (POST /api/v1/flows/<id>/publish), calling it at
/api/ext/<ws>/v<n>/<name> with an API key as its webhook would run, and the workspace's OpenAPI document."""
from __future__ import annotations

from openapi_spec_validator import validate

from support import identity
from support.api import deploy, finished
from support.flowdocs import done, edge

ORDER = {"number": "SO-1", "customer_no": "C-1", "ship_to": {"name": "Acme", "address1": "1 Main St",
                                                              "city": "Springfield", "postal_code": "12345",
                                                              "country": "US"},
         "lines": [{"line_no": 1, "sku": "SKU-1", "quantity": 2, "uom": "EA"}]}


def hooked(flow_id: str, path: str, *, respond: str = "async") -> dict:
    """webhook -> map -> an explicit end (async), or -> control.respond (sync) answering {"flow", "ref"}."""
    end = ({"id": "reply", "type": "control.respond", "config": {"status": 200}} if respond == "sync" else done())
    return {"schema": "crossdock.flow/1", "id": flow_id,
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": path, "respond": respond}},
                      {"id": "map", "type": "transform.map",
                       "config": {"expression": f"{{'flow': '{flow_id}', 'ref': number}}"}}, end],
            "edges": [edge(1, "hook", "map"), edge(2, "map", end["id"])]}


def publish(client, flow_id: str, name: str = "orders", version: int = 1, **extra):
    return client.post(f"/api/v1/flows/{flow_id}/publish", json={"name": name, "version": version, **extra})


def test_a_published_flow_runs_like_its_webhook(client, workspace, hook_key):
    deploy(client, hooked("intake", "orders-in"))
    r = publish(client, "intake", description="Take an order")
    assert r.status_code == 201, r.json
    assert r.json["published"] == {**r.json["published"], "name": "orders", "version": 1, "flow_id": "intake",
                                   "path": f"/api/ext/{workspace}/v1/orders", "description": "Take an order"}
    r = client.post(f"/api/ext/{workspace}/v1/orders", json=ORDER)  # the client sends its hook key here
    assert r.status_code == 202, r.json
    run = finished(client, r.json["run_id"])
    assert (run["trigger"], run["status"], run["flow_id"], run["input"]) == ("webhook", "succeeded", "intake", ORDER)
    assert run["output"] == {"flow": "intake", "ref": "SO-1"}
    listed = client.get("/api/v1/published").json["published"]
    assert [(p["name"], p["version"], p["flow_id"]) for p in listed] == [("orders", 1, "intake")]


def test_v1_keeps_answering_when_v2_is_published_and_after_v1_is_gone_v2_still_does(client, workspace):
    deploy(client, hooked("old", "old", respond="sync"))
    deploy(client, hooked("new", "new", respond="sync"))
    assert publish(client, "old", version=1).status_code == 201
    assert client.post(f"/api/ext/{workspace}/v1/orders", json=ORDER).json == {"flow": "old", "ref": "SO-1"}
    assert publish(client, "new", version=2).status_code == 201
    assert client.post(f"/api/ext/{workspace}/v1/orders", json=ORDER).json == {"flow": "old", "ref": "SO-1"}
    assert client.post(f"/api/ext/{workspace}/v2/orders", json=ORDER).json == {"flow": "new", "ref": "SO-1"}
    assert [(p["version"], p["flow_id"]) for p in client.get("/api/v1/published").json["published"]] == [
        (1, "old"), (2, "new")]
    assert client.delete("/api/v1/published/orders/1").status_code == 204
    assert client.post(f"/api/ext/{workspace}/v1/orders", json=ORDER).status_code == 404
    assert client.post(f"/api/ext/{workspace}/v2/orders", json=ORDER).json == {"flow": "new", "ref": "SO-1"}
    assert client.delete("/api/v1/published/orders/1").status_code == 404


def test_only_a_hooks_write_key_of_the_workspace_may_call(client, store, workspace):
    deploy(client, hooked("intake", "orders-in"))
    publish(client, "intake")
    other = "wsother" + workspace[-6:]
    store.ensure_workspace(other, partner_id=identity.partner_of(store, workspace))
    url = f"/api/ext/{workspace}/v1/orders"
    for headers in ({"X-Crossdock-Key": ""}, {"X-Crossdock-Key": "cdk_k_0123456789_" + "x" * 40},
                    {"X-Crossdock-Key": identity.hook_key(store, workspace, scopes=("flows:read", "runs:write"))},
                    {"Authorization": "Bearer " + identity.hook_key(store, other)}):
        r = client.post(url, json=ORDER, headers=headers)
        assert (r.status_code, r.json["error"]["code"]) == (401, "unauthorized"), headers
    r = client.post(url, json=ORDER, headers={"Authorization": "Bearer " + identity.hook_key(store, workspace)})
    assert r.status_code == 202
    assert len(client.get("/api/v1/runs").json["runs"]) == 1  # the refused calls started nothing


def test_a_request_record_is_checked_before_any_run(client, workspace):
    deploy(client, hooked("intake", "orders-in"))
    assert publish(client, "intake", request_record="order").status_code == 201
    r = client.post(f"/api/ext/{workspace}/v1/orders", json={**ORDER, "lines": [{"sku": "A", "quantity": -1}]})
    assert (r.status_code, r.json["error"]["code"]) == (422, "invalid_record")
    assert {"field": "lines[0].quantity", "code": "invalid_quantity"}.items() <= next(
        d for d in r.json["error"]["details"] if d["field"] == "lines[0].quantity").items()
    r = client.post(f"/api/ext/{workspace}/v1/orders", data="number=1",
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415
    assert client.get("/api/v1/runs").json["runs"] == []
    assert client.post(f"/api/ext/{workspace}/v1/orders", json=ORDER).status_code == 202


def test_publishing_needs_a_deployed_webhook_flow_and_a_free_version(client):
    assert publish(client, "nope").status_code == 404
    manual = {"schema": "crossdock.flow/1", "id": "manual",
              "nodes": [{"id": "start", "type": "event.manual", "config": {}}, done()],
              "edges": [edge(1, "start", "done")]}
    client.post("/api/v1/flows", json=hooked("draft", "draft"))
    assert publish(client, "draft").json["error"]["code"] == "not_deployed"
    deploy(client, manual)
    r = publish(client, "manual")
    assert (r.status_code, r.json["error"]["code"]) == (422, "no_webhook")
    deploy(client, hooked("intake", "orders-in"))
    assert publish(client, "intake").status_code == 201
    r = publish(client, "intake")
    assert (r.status_code, r.json["error"]["code"]) == (409, "conflict")
    for bad in ({"name": "Orders!", "version": 2}, {"name": "orders", "version": 0},
                {"name": "orders", "version": True}, {"name": "orders", "version": 2, "request_record": ["order"]},
                {"name": "orders", "version": 2, "response_record": "sales_order"}, []):
        r = client.post("/api/v1/flows/intake/publish", json=bad)
        assert (r.status_code, r.json["error"]["code"]) == (400, "invalid_argument"), bad


def test_an_undeployed_flow_answers_409_and_starts_nothing(client, workspace):
    deploy(client, hooked("intake", "orders-in"))
    publish(client, "intake")
    client.post("/api/v1/flows/intake/undeploy")
    r = client.post(f"/api/ext/{workspace}/v1/orders", json=ORDER)
    assert (r.status_code, r.json["error"]["code"]) == (409, "not_deployed")


def test_publishing_is_a_consultants_change_and_a_viewer_reads_the_list(client, workspace):
    deploy(client, hooked("intake", "orders-in"))
    viewer = identity.login_as(client, "viewer", workspace)
    r = publish(viewer, "intake")
    assert (r.status_code, r.json["error"]["details"]) == (403, [{"permission": "flows:write"}])
    assert publish(identity.login_as(client, "consultant", workspace), "intake").status_code == 201
    assert [p["name"] for p in viewer.get("/api/v1/published").json["published"]] == ["orders"]
    assert viewer.delete("/api/v1/published/orders/1").status_code == 403
    stranger = identity.login_as(client, "consultant", workspace, partner=identity.make_partner(
        client.application.extensions["crossdock.runtime"]))
    assert stranger.get("/api/v1/published").status_code == 404


def test_the_workspace_document_describes_each_published_version(client, store, workspace):
    deploy(client, hooked("old", "old"))
    deploy(client, hooked("new", "new", respond="sync"))
    publish(client, "old", version=1, request_record="order")
    publish(client, "new", version=2, request_record="order", response_record="shipment", description="Orders v2")
    reader = identity.hook_key(store, workspace, scopes=("flows:read",))
    r = client.get(f"/api/ext/{workspace}/openapi.json", headers={"X-Crossdock-Key": reader})
    assert r.status_code == 200, r.json
    doc = r.json
    validate(doc)
    assert set(doc["paths"]) == {f"/api/ext/{workspace}/v1/orders", f"/api/ext/{workspace}/v2/orders"}
    v2 = doc["paths"][f"/api/ext/{workspace}/v2/orders"]["post"]
    assert v2["summary"] == "Orders v2"
    assert v2["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/record_order"}
    assert v2["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/record_shipment"}
    order = doc["components"]["schemas"]["record_order"]
    assert order["x-crossdock-record"] == "crossdock.order/1"
    assert "number" in order["required"] and "$schema" not in order
    assert client.get(f"/api/ext/{workspace}/openapi.json").status_code == 200  # the client's hooks:write key
    for headers in ({}, {"X-Crossdock-Key": identity.hook_key(store, workspace, scopes=("runs:read",))}):
        anonymous = client.application.test_client()
        assert anonymous.get(f"/api/ext/{workspace}/openapi.json", headers=headers).status_code == 401


def test_a_suspended_workspace_starts_no_run(client, store, workspace):
    deploy(client, hooked("intake", "orders-in"))
    publish(client, "intake")
    assert client.patch(f"/api/v1/workspaces/{workspace}", json={"status": "suspended"}).status_code == 200
    r = client.post(f"/api/ext/{workspace}/v1/orders", json=ORDER)
    assert (r.status_code, r.json["error"]["code"]) == (403, "workspace_suspended")


def test_calls_over_the_partners_limit_get_429_and_start_nothing(client, workspace):
    deploy(client, hooked("intake", "orders-in"))
    publish(client, "intake")
    assert client.put("/api/v1/partner", json={"limits": {"hooks_per_minute": 2}}).status_code == 200
    assert [client.post(f"/api/ext/{workspace}/v1/orders", json=ORDER).status_code for _ in range(2)] == [202, 202]
    r = client.post(f"/api/ext/{workspace}/v1/orders", json=ORDER)
    assert (r.status_code, r.json["error"]["code"]) == (429, "rate_limited")
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert len(client.get("/api/v1/runs").json["runs"]) == 2
