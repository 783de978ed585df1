"""The second simulated ERP (NetSuite-shaped): upsert by externalId, approval with a credit check that commits
stock and backorders the rest, record and collection shapes, paging, and o:errorDetails errors."""
from __future__ import annotations

API = "/netsuite/api/record/v1"


def order(ext="WEB-1", customer="C-10442", lines=None, status="B", **extra):
    return {"externalId": ext, "entity": {"externalId": customer}, "orderStatus": {"id": status},
            "item": {"items": lines if lines is not None else [
                {"item": {"externalId": "HW-20620-C"}, "quantity": 100, "rate": 2.6, "amount": 250.0}]}, **extra}


def put(sbx, body, ext="WEB-1"):
    return sbx.put(f"{API}/salesOrder/eid:{ext}", json=body)


def committed(sbx, item):
    return sbx.get(f"{API}/inventoryItem/eid:{item}").json["locations"]["items"][0]["quantityCommitted"]


def test_an_upsert_answers_204_with_a_location_and_the_record_reads_with_its_lines(sbx):
    r = put(sbx, order())
    assert r.status_code == 204 and r.data == b""
    assert r.headers["Location"].endswith(f"{API}/salesOrder/7001")
    so = sbx.get(f"{API}/salesOrder/eid:WEB-1").json
    assert so["id"] == "7001" and so["tranId"] == "SO7001" and so["externalId"] == "WEB-1"
    assert so["orderStatus"] == {"id": "B", "refName": "Pending Fulfillment"}
    assert so["entity"]["refName"].startswith("C-10442 ")
    [line] = so["item"]["items"]
    assert (line["item"]["refName"], line["quantity"], line["amount"]) == ("HW-20620-C", 100, 250.0)
    assert (line["quantityCommitted"], line["quantityBackOrdered"]) == (100, 0)
    assert so["total"] == 250.0 and so["item"]["hasMore"] is False
    assert sbx.get(f"{API}/salesOrder/7001").json["externalId"] == "WEB-1"


def test_the_same_body_again_changes_nothing_and_a_changed_one_replaces_the_commitment(sbx):
    put(sbx, order())
    put(sbx, order())
    assert sbx.get(f"{API}/salesOrder").json["totalResults"] == 1 and committed(sbx, "HW-20620-C") == 100
    put(sbx, order(lines=[{"item": {"externalId": "HW-20620-C"}, "quantity": 30}]))
    so = sbx.get(f"{API}/salesOrder/eid:WEB-1").json
    assert so["item"]["items"][0]["amount"] == 78.0  # 30 x the base price 2.60
    assert committed(sbx, "HW-20620-C") == 30


def test_an_order_beyond_stock_commits_what_is_there_and_backorders_the_rest(sbx):
    put(sbx, order(lines=[{"item": {"externalId": "HW-61610-C"}, "quantity": 60}]))  # 48 on hand
    [line] = sbx.get(f"{API}/salesOrder/eid:WEB-1").json["item"]["items"]
    assert (line["quantityCommitted"], line["quantityBackOrdered"]) == (48, 12)
    assert sbx.get(f"{API}/inventoryItem/eid:HW-61610-C").json["locations"]["items"][0]["quantityAvailable"] == 0


def test_over_the_credit_limit_an_order_stays_pending_approval_on_hold_until_overridden(sbx):
    put(sbx, order(customer="C-10977", lines=[{"item": {"externalId": "HW-20620-C"}, "quantity": 200}]))
    so = sbx.get(f"{API}/salesOrder/eid:WEB-1").json
    assert (so["orderStatus"]["id"], so["custbody_hold_reason"]) == ("A", "CREDIT")
    assert committed(sbx, "HW-20620-C") == 0
    assert sbx.patch(f"{API}/salesOrder/{so['id']}", json={"orderStatus": {"id": "B"}}).status_code == 204
    assert sbx.get(f"{API}/salesOrder/{so['id']}").json["orderStatus"]["id"] == "A"  # still over the limit
    r = sbx.patch(f"{API}/salesOrder/{so['id']}", json={"orderStatus": {"id": "B"}, "custbody_credit_override": True})
    assert r.status_code == 204
    so = sbx.get(f"{API}/salesOrder/{so['id']}").json
    assert (so["orderStatus"]["id"], so["custbody_hold_reason"]) == ("B", None) and committed(sbx, "HW-20620-C") == 200


def test_collections_page_with_limit_offset_has_more_and_a_next_link(sbx):
    first = sbx.get(f"{API}/inventoryItem?limit=10").json
    assert (first["count"], first["offset"], first["totalResults"], first["hasMore"]) == (10, 0, 25, True)
    following = next(l["href"] for l in first["links"] if l["rel"] == "next")
    assert "offset=10" in following
    last = sbx.get(f"{API}/inventoryItem?limit=10&offset=20").json
    assert (last["count"], last["hasMore"]) == (5, False) and [l["rel"] for l in last["links"]] == ["self"]
    assert first["items"][0]["itemId"] == "HW-20620-C" and first["items"][0]["totalQuantityOnHand"] == 40000


def test_orders_are_found_by_external_id_query(sbx):
    put(sbx, order())
    put(sbx, order(ext="WEB-2"), ext="WEB-2")
    found = sbx.get(f'{API}/salesOrder?q=externalId IS "WEB-2"').json
    assert [o["externalId"] for o in found["items"]] == ["WEB-2"]
    r = sbx.get(f"{API}/salesOrder?q=tranDate ON_OR_AFTER 2026-01-01")
    assert r.status_code == 400 and r.json["o:errorDetails"][0]["o:errorCode"] == "INVALID_PARAMETER"


def test_errors_are_o_error_details_naming_the_path(sbx):
    r = put(sbx, order(lines=[{"item": {"externalId": "NOPE-1"}, "quantity": 1}]))
    assert r.status_code == 400
    [detail] = r.json["o:errorDetails"]
    assert detail["o:errorCode"] == "INVALID_CONTENT" and detail["o:errorPath"] == "item.items[0].item"
    assert "Invalid Field Value NOPE-1" in detail["detail"]
    r = sbx.get(f"{API}/salesOrder/eid:UNKNOWN")
    assert r.status_code == 404 and r.json["o:errorDetails"][0]["o:errorCode"] == "NONEXISTENT_ID"
    r = put(sbx, {"entity": {"externalId": "C-NONE"}, "item": {"items": [{"item": {"id": "501"}, "quantity": 1}]}})
    assert r.status_code == 400 and r.json["o:errorDetails"][0]["o:errorPath"] == "entity"
    assert sbx.put(f"{API}/salesOrder/7001", json=order()).status_code == 400  # upsert needs eid:
    assert sbx.put(f"{API}/salesOrder/eid:X", data="not json").status_code == 400


def test_reset_brings_the_seed_back(sbx):
    put(sbx, order())
    assert sbx.post("/netsuite/api/_reset").status_code == 200
    assert sbx.get(f"{API}/salesOrder").json["totalResults"] == 0 and committed(sbx, "HW-20620-C") == 0
    assert sbx.get(f"{API}/customer/eid:C-10977").json["creditLimit"] == 1000.0


def test_malformed_fields_are_400_naming_the_field_never_500(sbx):
    base = order()
    for extra, field in (({"orderStatus": "B"}, "orderStatus"), ({"currency": "USD"}, "currency"),
                         ({"tranDate": 20261126}, "tranDate"), ({"orderStatus": {"id": "F"}}, "orderStatus"),
                         ({"entity": "C-10442"}, "entity"), ({"externalId": "OTHER"}, "externalId"),
                         ({"item": {"items": [{"item": "HW-20620-C", "quantity": 1}]}}, "item.items[0].item"),
                         ({"item": {"items": [{"item": {"externalId": "HW-20620-C"}, "quantity": 0}]}},
                          "item.items[0].quantity"),
                         ({"item": {"items": [{"item": {"externalId": "HW-20620-C"}, "quantity": 1, "units": "KG"}]}},
                          "item.items[0].units")):
        r = put(sbx, {**base, **extra})
        assert r.status_code in (400, 422) and r.json["o:errorDetails"][0]["o:errorPath"] == field, (extra, r.json)
    put(sbx, base)
    for body in ({"orderStatus": "B"}, {"subsidiary": {"id": "1"}}, {"orderStatus": {"id": "C"}}):
        r = sbx.patch(f"{API}/salesOrder/eid:WEB-1", json=body)
        assert r.status_code == 400 and "o:errorDetails" in r.json, body
    assert sbx.get(f"{API}/salesOrder?limit=abc").status_code == 400
    assert sbx.delete(f"{API}/salesOrder/7001").status_code == 405
