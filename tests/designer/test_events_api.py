"""GET /api/v1/events, and issue 16's business events end to end through the HTTP API: two flows deployed, a webhook
posted to the emitting one, the subscribing one's run succeeds with the event's payload, and the event is listed
with its delivery. Viewers read events; another workspace's are never shown; bad arguments are 400 naming them."""
from __future__ import annotations

import uuid

from support import identity, wait_for
from support.api import deploy, finished
from support.flowdocs import done, edge

from .test_trading_partners_api import documented

SHIPPED = {"schema": "crossdock.flow/1", "id": "ship", "name": "Shipment confirmation",
           "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "shipments"}},
                     {"id": "emit", "type": "control.emit",
                      "config": {"event": "shipment.departed", "key": "number",
                                 "payload": "{'shipment': number, 'carrier': carrier}"}}],
           "edges": [edge(1, "hook", "emit")]}
INVOICE = {"schema": "crossdock.flow/1", "id": "invoice", "name": "Invoice on departure",
           "settings": {"business_key": "shipment"},
           "nodes": [{"id": "on", "type": "event.subscribe", "config": {"event": "shipment.departed"}},
                     {"id": "map", "type": "transform.map", "config": {"expression": "{'invoice_for': shipment}"}},
                     done()],
           "edges": [edge(1, "on", "map"), edge(2, "map", "done")]}


def test_a_webhook_to_one_flow_starts_the_subscribed_flow_with_the_payload(client, workspace):
    deploy(client, SHIPPED)
    deploy(client, INVOICE)
    posted = client.post(f"/hooks/{workspace}/shipments", json={"number": "S-42", "carrier": "UPS"})
    assert posted.status_code == 202, posted.json
    emitting = finished(client, posted.json["run_id"])
    assert emitting["status"] == "succeeded", emitting
    [invoice_run] = emitting["output"]["emitted"]["runs"]
    run = finished(client, invoice_run)
    assert run["status"] == "succeeded" and run["flow_id"] == "invoice"
    assert run["input"] == {"shipment": "S-42", "carrier": "UPS"} and run["output"] == {"invoice_for": "S-42"}
    assert (run["trigger"], run["business_key"]) == ("event", "S-42")

    listed = client.get("/api/v1/events")
    assert listed.status_code == 200
    documented(client, listed, "/api/v1/events")
    [event] = listed.json["events"]
    assert (event["name"], event["key"], event["payload"], event["hops"], event["subscribers"]) == (
        "shipment.departed", "S-42", {"shipment": "S-42", "carrier": "UPS"}, 1, 1)
    assert event["emitted_by"] == {"flow": "ship", "version": 1, "run": emitting["id"], "node": "emit"}
    assert event["deliveries"] == [{"flow_id": "invoice", "version": 1, "node_id": "on", "run_id": invoice_run,
                                    "status": "succeeded"}]


def test_events_are_listed_newest_first_filtered_and_paged(client, workspace):
    deploy(client, SHIPPED)
    for number in ("S-1", "S-2", "S-3"):
        posted = client.post(f"/hooks/{workspace}/shipments", json={"number": number, "carrier": "DHL"})
        assert finished(client, posted.json["run_id"])["status"] == "succeeded"
    everything = client.get("/api/v1/events").json["events"]
    assert [e["key"] for e in everything] == ["S-3", "S-2", "S-1"]
    assert all(e["subscribers"] == 0 and e["deliveries"] == [] for e in everything)
    assert [e["key"] for e in client.get("/api/v1/events?name=shipment.*&limit=2").json["events"]] == ["S-3", "S-2"]
    page = client.get(f"/api/v1/events?before={everything[1]['id']}").json["events"]
    assert [e["key"] for e in page] == ["S-1"]
    assert [e["key"] for e in client.get("/api/v1/events?key=S-2").json["events"]] == ["S-2"]
    assert client.get("/api/v1/events?name=order.released").json["events"] == []
    assert client.get("/api/v1/events?name=ship%25.*").status_code == 400  # no LIKE wildcard gets through


def test_a_viewer_reads_events_and_another_workspace_sees_none(client, workspace, partner, rt):
    deploy(client, SHIPPED)
    posted = client.post(f"/hooks/{workspace}/shipments", json={"number": "S-7", "carrier": "UPS"})
    finished(client, posted.json["run_id"])
    viewer = identity.login_as(client, "viewer", workspace)
    assert [e["key"] for e in viewer.get("/api/v1/events").json["events"]] == ["S-7"]
    other = f"ws{uuid.uuid4().hex[:10]}"
    rt.ensure_workspace(other, partner_id=partner)
    neighbour = identity.login_as(client, "consultant", other)
    assert wait_for(lambda: neighbour.get("/api/v1/events").status_code == 200)
    assert neighbour.get("/api/v1/events").json["events"] == []


def test_bad_arguments_are_400_naming_them(api):
    for query, field in (("name=Shipment", "name"), ("name=*", "name"), ("limit=0", "limit"), ("limit=x", "limit"),
                         ("before=0", "before"), ("before=99999999999", "before"), ("limit=501", "limit"),
                         ("name=" + "a" * 41 + ".b", "name"), ("key=" + "k" * 201, "key")):
        r = api.get(f"/api/v1/events?{query}")
        assert r.status_code == 400 and r.json["error"]["details"] == [{"field": field}], (query, r.json)
    assert api.get("/api/v1/events?key=%C3%A9%F0%9F%93%A6&name=a_b.*").json == {"events": []}
