"""OMS webhooks: delivered asynchronously to a local HTTP server, signed, in order, retried on failure."""
from __future__ import annotations

import json

from sandbox import webhooks


def subscribe(sbx, topic, address, secret="s3cret"):
    r = sbx.post("/oms/api/webhook-subscriptions", json={"webhook": {"topic": topic, "address": address,
                                                                      "secret": secret}})
    assert r.status_code == 201, r.json
    return r.json["webhook"]


def create_order(sbx):
    return sbx.post("/oms/api/orders", json={"order": {"line_items": [{"sku": "hw-20620-c", "quantity": 1}]}}).json[
        "order"]


def deliveries(sbx, **query):
    args = "&".join(f"{k}={v}" for k, v in query.items())
    return sbx.get(f"/oms/api/webhook-deliveries?{args}").json["deliveries"]


def test_order_created_updated_and_cancelled_are_delivered_in_order(sbx, receiver, eventually):
    for topic in ("orders/create", "orders/updated", "orders/cancelled"):
        subscribe(sbx, topic, receiver.url + "/hooks/oms")
    order = create_order(sbx)
    sbx.patch(f"/oms/api/orders/{order['id']}", json={"order": {"status": "released"}})
    sbx.post(f"/oms/api/orders/{order['id']}/cancel")
    eventually(lambda: len(receiver.requests) == 4)
    topics = [r["headers"]["X-Oms-Topic"] for r in receiver.requests]
    assert topics == ["orders/create", "orders/updated", "orders/updated", "orders/cancelled"]
    assert [r["json"]["status"] for r in receiver.requests] == ["created", "released", "cancelled", "cancelled"]
    assert receiver.requests[0]["path"] == "/hooks/oms" and receiver.requests[0]["json"]["name"] == "#1001"
    first = receiver.requests[0]
    assert first["headers"]["X-Oms-Hmac-Sha256"] == webhooks.signature("s3cret", first["raw"])
    assert eventually(lambda: all(d["status"] == "delivered" for d in deliveries(sbx)) and deliveries(sbx))


def test_return_created_is_delivered_with_the_return_and_its_order(sbx, receiver, eventually):
    subscribe(sbx, "returns/create", receiver.url)
    order = create_order(sbx)
    sbx.patch(f"/oms/api/orders/{order['id']}", json={"order": {"status": "released"}})
    sbx.post(f"/oms/api/orders/{order['id']}/fulfillments", json={"line_items": [{"sku": "hw-20620-c", "quantity": 1}]})
    sbx.post(f"/oms/api/orders/{order['id']}/returns", json={"line_items": [{"sku": "hw-20620-c", "quantity": 1}]})
    eventually(lambda: receiver.requests)
    payload = receiver.requests[0]["json"]
    assert payload["name"] == "RMA-1001" and payload["order"]["status"] == "return_requested"
    assert payload["line_items"] == [{"id": 1, "sku": "hw-20620-c", "quantity": 1, "return_reason": "other"}]


def test_a_failing_subscriber_is_retried_until_it_answers(sandbox_app, sbx, make_receiver, eventually):
    sandbox_app.extensions["sandbox.webhooks"].retry_delays_s = (0.05, 0.05, 0.05)
    flaky = make_receiver(fail_first=2)
    subscribe(sbx, "orders/create", flaky.url)
    create_order(sbx)
    done = eventually(lambda: deliveries(sbx, status="delivered"))
    assert done[0]["attempts"] == 3 and done[0]["response_status"] == 200
    assert len(flaky.requests) == 3
    assert len({r["headers"]["X-Oms-Webhook-Id"] for r in flaky.requests}) == 1


def test_an_unreachable_subscriber_ends_failed_after_the_retries(sandbox_app, sbx, make_receiver, eventually):
    sandbox_app.extensions["sandbox.webhooks"].retry_delays_s = (0.01, 0.01)
    gone = make_receiver()
    address = gone.url
    gone.close()
    subscribe(sbx, "orders/create", address)
    create_order(sbx)
    failed = eventually(lambda: deliveries(sbx, status="failed"))
    assert failed[0]["attempts"] == 3 and failed[0]["last_error"]


def test_no_subscription_means_no_delivery(sbx, receiver):
    subscribe(sbx, "orders/cancelled", receiver.url)
    create_order(sbx)
    assert deliveries(sbx) == []


def test_subscriptions_are_validated_listed_and_removed(sbx, receiver):
    bad_topic = sbx.post("/oms/api/webhook-subscriptions", json={"topic": "orders/paid", "address": receiver.url})
    assert bad_topic.status_code == 422 and "topic" in bad_topic.json["errors"]
    assert sbx.post("/oms/api/webhook-subscriptions", json={"topic": "orders/create", "address": "ftp://x"}
                    ).status_code == 422
    sub = subscribe(sbx, "orders/create", receiver.url)
    again = sbx.post("/oms/api/webhook-subscriptions", json={"topic": "orders/create", "address": receiver.url})
    assert again.status_code == 422
    assert [w["id"] for w in sbx.get("/oms/api/webhook-subscriptions").json["webhooks"]] == [sub["id"]]
    assert sbx.delete(f"/oms/api/webhook-subscriptions/{sub['id']}").status_code == 204
    assert sbx.delete(f"/oms/api/webhook-subscriptions/{sub['id']}").status_code == 404


def test_pending_deliveries_survive_a_restart(tmp_path, receiver, eventually):
    from sandbox.app import create_app

    url = f"sqlite:///{tmp_path}/restart.sqlite"
    first = create_app(url)
    client = first.test_client()
    subscribe(client, "orders/create", receiver.url)
    first.extensions["sandbox.webhooks"].submit = lambda ids: None  # this process dies before sending
    create_order(client)
    assert receiver.requests == []
    create_app(url)  # a new process picks up what was left pending
    eventually(lambda: receiver.requests)
    assert json.loads(receiver.requests[0]["raw"])["name"] == "#1001"
