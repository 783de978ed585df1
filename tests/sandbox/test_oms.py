"""OMS: orders with lowercase SKUs and their own statuses, If-Match on version, fulfillments, returns, refunds,
inventory levels and Link-header paging."""
from __future__ import annotations

import pytest

ORDERS = "/oms/api/orders"


def create(sbx, **order):
    body = {"customer": {"id": 7001}, "line_items": [{"sku": "hw-20620-c", "quantity": 3},
                                                     {"sku": "hw-42614-b", "quantity": 1, "price": 70}], **order}
    r = sbx.post(ORDERS, json={"order": body})
    assert r.status_code == 201, r.json
    return r.json["order"]


def patch(sbx, order, etag=None, **changes):
    return sbx.patch(f"{ORDERS}/{order['id']}", json={"order": changes},
                     headers={"If-Match": etag or f'"{order["version"]}"'})


def test_create_uses_the_catalogue_and_the_customer(sbx):
    order = create(sbx)
    assert (order["id"], order["name"], order["status"], order["version"]) == (5001001, "#1001", "created", 1)
    assert order["email"] == "purchasing@acme-hw.example" and order["customer"]["tags"] == "erp:C-10442"
    assert order["shipping_address"]["zip"] == "43217"
    assert [(l["sku"], l["price"]) for l in order["line_items"]] == [("hw-20620-c", "2.60"), ("hw-42614-b", "70.00")]
    assert order["total_price"] == "77.80"
    assert sbx.get(f"{ORDERS}/{order['id']}").headers["ETag"] == '"1"'


@pytest.mark.parametrize("body, field", [
    ({"line_items": [{"sku": "HW-20620-C", "quantity": 1}]}, "line_items[0].sku"),  # the OMS spells SKUs lowercase
    ({"line_items": [{"sku": "hw-20620-c", "quantity": 0}]}, "line_items[0].quantity"),
    ({"line_items": [{"sku": "hw-20620-c", "quantity": 1, "price": "free"}]}, "line_items[0].price"),
    ({"line_items": []}, "line_items"),
    ({"customer": {"id": 1}, "line_items": [{"sku": "hw-20620-c", "quantity": 1}]}, "customer"),
    ({"order": "x"}, "order"),
])
def test_bad_orders_are_422_with_shopify_style_errors(sbx, body, field):
    r = sbx.post(ORDERS, json=body)
    assert r.status_code == 422 and list(r.json["errors"]) == [field]


def test_duplicate_names_are_taken(sbx):
    create(sbx, name="WEB-77")
    r = sbx.post(ORDERS, json={"order": {"name": "WEB-77", "line_items": [{"sku": "hw-20620-c", "quantity": 1}]}})
    assert r.status_code == 422 and r.json == {"errors": {"name": ["name has already been taken"]}}


def test_status_updates_need_the_current_version(sbx):
    order = create(sbx)
    released = patch(sbx, order, status="released")
    assert released.status_code == 200 and released.json["order"]["version"] == 2
    assert released.headers["ETag"] == '"2"'
    stale = patch(sbx, order, status="on_hold")
    assert stale.status_code == 412
    assert sbx.get(f"{ORDERS}/{order['id']}").json["order"]["status"] == "released"


def test_illegal_transitions_are_409_and_unknown_statuses_422(sbx):
    order = create(sbx)
    assert patch(sbx, order, status="shipped").status_code == 409
    assert patch(sbx, order, status="lost").status_code == 422
    cancelled = sbx.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "customer"}).json["order"]
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "customer"
    assert sbx.post(f"{ORDERS}/{order['id']}/cancel").status_code == 409


def test_fulfillments_move_the_order_to_partially_shipped_then_shipped(sbx):
    order = create(sbx)
    patch(sbx, order, status="released")
    url = f"{ORDERS}/{order['id']}/fulfillments"
    first = sbx.post(url, json={"fulfillment": {"tracking_number": "1Z0000000001", "tracking_company": "UPS",
                                                "line_items": [{"sku": "hw-20620-c", "quantity": 2}]}})
    assert first.status_code == 201
    partial = first.json["order"]
    assert (partial["status"], partial["fulfillment_status"]) == ("partially_shipped", "partial")
    assert partial["line_items"][0]["fulfillable_quantity"] == 1
    assert sbx.post(url, json={"line_items": [{"sku": "hw-20620-c", "quantity": 2}]}).status_code == 422
    done = sbx.post(url, json={"line_items": [{"id": 1, "quantity": 1}, {"sku": "hw-42614-b", "quantity": 1}]})
    assert done.json["order"]["status"] == "shipped" and len(done.json["order"]["fulfillments"]) == 2


def test_returns_and_refunds_follow_shipment(sbx):
    order = create(sbx)
    assert sbx.post(f"{ORDERS}/{order['id']}/returns", json={"line_items": [{"sku": "hw-20620-c", "quantity": 1}]}
                    ).status_code == 409
    patch(sbx, order, status="released")
    sbx.post(f"{ORDERS}/{order['id']}/fulfillments", json={"line_items": [{"sku": "hw-20620-c", "quantity": 3},
                                                                          {"sku": "hw-42614-b", "quantity": 1}]})
    r = sbx.post(f"{ORDERS}/{order['id']}/returns", json={"return": {"line_items": [
        {"sku": "hw-20620-c", "quantity": 2, "return_reason": "defective"}]}})
    assert r.status_code == 201
    returned = r.json["order"]
    assert returned["status"] == "return_requested" and returned["returns"][0]["name"] == "RMA-1001"
    too_many = sbx.post(f"{ORDERS}/{order['id']}/returns", json={"line_items": [{"sku": "hw-20620-c", "quantity": 2}]})
    assert too_many.status_code == 422
    refunded = sbx.post(f"{ORDERS}/{order['id']}/refunds", json={"refund": {"amount": 5.2}}).json["order"]
    assert (refunded["status"], refunded["financial_status"]) == ("refunded", "refunded")


def test_orders_page_with_a_link_header(sbx):
    for _ in range(5):
        create(sbx)
    first = sbx.get(f"{ORDERS}?limit=2")
    assert [o["name"] for o in first.json["orders"]] == ["#1001", "#1002"]
    names, link = [], first.headers.get("Link")
    names += [o["name"] for o in first.json["orders"]]
    while link:
        page = sbx.get(link.split(">")[0].removeprefix("<http://localhost"))
        names += [o["name"] for o in page.json["orders"]]
        link = page.headers.get("Link")
    assert names == [f"#{n}" for n in range(1001, 1006)]
    assert [o["name"] for o in sbx.get(f"{ORDERS}?since_id=5001003").json["orders"]] == ["#1004", "#1005"]
    assert sbx.get(f"{ORDERS}?page_info=%%%").status_code == 400
    assert sbx.get(f"{ORDERS}/123").json == {"errors": {"base": ["Not Found"]}}


def test_line_discounts_by_percentage_and_fixed_amount_per_unit_make_the_total(sbx):
    order = create(sbx, line_items=[
        {"sku": "hw-13687-b", "quantity": 60, "price": "13.33",
         "discounts": [{"value_type": "percentage", "value": "5"}, {"value_type": "fixed_amount", "value": "0.25"}]},
        {"sku": "hw-20620-c", "quantity": 3}])
    discounted, plain = order["line_items"]
    assert [a["amount"] for a in discounted["discount_allocations"]] == ["39.99", "15.00"]
    assert (discounted["total_discount"], plain["total_discount"], plain["discount_allocations"]) == ("54.99", "0.00", [])
    assert (order["total_line_items_price"], order["total_discounts"], order["total_price"]) == (
        "807.60", "54.99", "752.61")


@pytest.mark.parametrize("discount", [{"value_type": "percentage", "value": 101}, {"value_type": "coupon", "value": 1},
                                      {"value_type": "fixed_amount", "value": "x"},
                                      {"value_type": "fixed_amount", "value": 99}])
def test_a_bad_discount_is_422_naming_it(sbx, discount):
    r = sbx.post(ORDERS, json={"order": {"line_items": [{"sku": "hw-20620-c", "quantity": 1, "discounts": [discount]}]}})
    assert r.status_code == 422 and "line_items[0].discounts[0]" in next(iter(r.json["errors"]))


def test_creating_writes_replay_their_idempotency_key(sbx):
    key = {"Idempotency-Key": "order-1"}
    body = {"order": {"line_items": [{"sku": "hw-20620-c", "quantity": 3}]}}
    first, again = sbx.post(ORDERS, json=body, headers=key), sbx.post(ORDERS, json=body, headers=key)
    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (201, 201, "true")
    assert again.json == first.json and len(sbx.get(ORDERS).json["orders"]) == 1
    order = first.json["order"]
    patch(sbx, order, status="released")
    url, key = f"{ORDERS}/{order['id']}/fulfillments", {"Idempotency-Key": "shipment-1"}
    fulfil = {"fulfillment": {"line_items": [{"sku": "hw-20620-c", "quantity": 2}]}}
    for _ in range(2):
        shipped = sbx.post(url, json=fulfil, headers=key).json["order"]
    assert len(shipped["fulfillments"]) == 1 and shipped["line_items"][0]["fulfilled_quantity"] == 2
    other = sbx.post(url, json={"fulfillment": {"line_items": [{"sku": "hw-20620-c", "quantity": 1}]}}, headers=key)
    assert other.status_code == 422  # one key, another request
