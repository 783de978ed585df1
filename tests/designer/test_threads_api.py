"""GET /api/v1/threads (issue 14, acceptance 3 through the API): webhooks to an order release and a shipment
confirmation flow; the PO number finds both runs, linked through the ERP's order number, oldest first, as the
OpenAPI document says; another workspace sees none of them; a viewer reads threads; bad arguments are 400."""
from __future__ import annotations

import uuid

from support import identity, wait_for
from support.api import deploy, finished
from support.flowdocs import done, edge

from .test_trading_partners_api import documented

RELEASE = {"schema": "crossdock.flow/1", "id": "release", "name": "Order release",
           "settings": {"business_key": "order.po", "thread_label": "released to ERP",
                        "correlation": {"po": "order.po", "order": "SalesOrder"}},
           "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "orders"}},
                     {"id": "erp", "type": "transform.map",
                      "config": {"expression": "{'SalesOrder': 'SO-' & order.po}"}},
                     done()],
           "edges": [edge(1, "hook", "erp"), edge(2, "erp", "done")]}
CONFIRM = {"schema": "crossdock.flow/1", "id": "confirm", "name": "Shipment confirmation",
           "settings": {"correlation": {"order": "order", "shipment": "shipment", "tracking": "parcels.tracking"}},
           "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "shipments"}}, done()],
           "edges": [edge(1, "hook", "done")]}


def post(client, workspace: str, path: str, body: dict) -> int:
    r = client.post(f"/hooks/{workspace}/{path}", json=body)
    assert r.status_code == 202, r.json
    assert finished(client, r.json["run_id"])["status"] == "succeeded"
    return r.json["run_id"]


def test_a_po_number_shows_its_release_and_shipment_confirmation_in_time_order(client, workspace):
    deploy(client, RELEASE)
    deploy(client, CONFIRM)
    po = f"4711{uuid.uuid4().hex[:6]}"
    released = post(client, workspace, "orders", {"order": {"po": po}})
    shipped = post(client, workspace, "shipments", {"order": f"SO-{po}", "shipment": "SH-3",
                                                    "parcels": [{"tracking": "1Z999"}]})
    post(client, workspace, "orders", {"order": {"po": "someone-else"}})

    r = client.get(f"/api/v1/threads?key={po}")
    assert r.status_code == 200
    documented(client, r, "/api/v1/threads")
    thread = r.json
    assert [(e["run_id"], e["flow_id"], e["label"]) for e in thread["entries"]] == [
        (released, "release", "released to ERP"), (shipped, "confirm", "Shipment confirmation")]
    assert thread["entries"][0]["created_at"] <= thread["entries"][1]["created_at"]
    assert thread["entries"][0]["business_key"] == po and thread["entries"][1]["status"] == "succeeded"
    assert {(k["kind"], k["value"]) for k in thread["keys"]} == {
        ("po", po), ("order", f"SO-{po}"), ("shipment", "SH-3"), ("tracking", "1Z999")}
    # found from the other end too, by any of its keys
    assert [e["run_id"] for e in client.get("/api/v1/threads?key=1Z999").json["entries"]] == [released, shipped]
    assert [e["run_id"] for e in client.get("/api/v1/threads?key=SH-3&kind=shipment").json["entries"]] == [
        released, shipped]
    assert client.get(f"/api/v1/threads?key={po}&kind=tracking").json["entries"] == []


def test_a_viewer_reads_threads_and_another_workspace_sees_none(client, workspace, partner, rt):
    deploy(client, RELEASE)
    po = f"PO{uuid.uuid4().hex[:8]}"
    released = post(client, workspace, "orders", {"order": {"po": po}})
    viewer = identity.login_as(client, "viewer", workspace)
    assert [e["run_id"] for e in viewer.get(f"/api/v1/threads?key={po}").json["entries"]] == [released]
    other = f"ws{uuid.uuid4().hex[:10]}"
    rt.ensure_workspace(other, partner_id=partner)
    neighbour = identity.login_as(client, "consultant", other)
    assert wait_for(lambda: neighbour.get(f"/api/v1/threads?key={po}").status_code == 200)
    found = neighbour.get(f"/api/v1/threads?key={po}").json
    assert found["entries"] == [] and found["keys"] == []
    # naming this workspace without a membership in it is 404, as for every workspace resource
    stranger = identity.login_as(client, "consultant", other)
    r = stranger.get(f"/api/v1/threads?key={po}", headers={"X-Crossdock-Workspace": workspace})
    assert r.status_code == 404


def test_bad_arguments_are_400_naming_them(api):
    for query, field in (("", "key"), ("key=", "key"), ("key=%20%20", "key"), ("key=" + "k" * 201, "key"),
                         ("key=1&kind=PO", "kind"), ("key=1&kind=" + "a" * 33, "kind")):
        r = api.get(f"/api/v1/threads?{query}")
        assert r.status_code == 400 and r.json["error"]["details"] == [{"field": field}], (query, r.json)
    assert api.get("/api/v1/threads?key=%C3%A9%F0%9F%93%A6").json["entries"] == []


def test_validate_and_deploy_refuse_a_correlation_key_that_does_not_compile(api):
    doc = {**CONFIRM, "id": "broken", "settings": {"correlation": {"order": "order.(", **{
        f"k{i}": "x" for i in range(3)}}}}
    r = api.post("/api/v1/flows/validate", json=doc)
    assert r.status_code == 200 and not r.json["valid"]
    assert [p["field"] for p in r.json["problems"]] == ["settings.correlation.order"]
    too_many = {**CONFIRM, "id": "many", "settings": {"correlation": {f"k{i}": "x" for i in range(9)}}}
    r = api.post("/api/v1/flows/validate", json=too_many)
    assert not r.json["valid"] and r.json["problems"][0]["field"] == "settings.correlation"
    assert api.post("/api/v1/flows", json=doc).status_code == 201
    r = api.post("/api/v1/flows/broken/deploy")
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "settings.correlation.order", r.json
