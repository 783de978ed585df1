"""WMS outbound: waves by cutoff on the sandbox clock, allocation, short picks, partial shipments, cancel."""
from __future__ import annotations

import pytest

ORDERS = "/wms/api/shipping-orders"


def set_clock(sbx, iso):
    assert sbx.post("/wms/api/_clock", json={"now": iso}).status_code == 200


def create(sbx, number="SO101001", lines=None):
    r = sbx.post(ORDERS, json={"orderNumber": number, "shipTo": {"name": "Acme"},
                               "lines": lines or [{"itemId": "HW-20620-C", "orderedQty": 240}]})
    assert r.status_code == 201, r.json
    return r.json["data"]


@pytest.mark.parametrize("now, wave", [
    ("2026-11-26T13:59:59Z", "WV-DC1-20261126"),
    ("2026-11-26T14:00:00Z", "WV-DC1-20261127"),
    ("2026-11-26T23:30:00Z", "WV-DC1-20261127"),
    ("2026-11-27T00:05:00Z", "WV-DC1-20261127"),
    ("2026-11-26T09:00:00-08:00", "WV-DC1-20261127"),  # 17:00 UTC, after the cutoff
])
def test_orders_join_todays_wave_before_the_cutoff_and_tomorrows_after(sbx, now, wave):
    set_clock(sbx, now)
    assert create(sbx)["waveId"] == wave
    waves = sbx.get("/wms/api/waves").json["data"]
    assert [(w["waveId"], w["orderCount"]) for w in waves] == [(wave, 1)]


def test_the_cutoff_can_be_moved(sbx):
    set_clock(sbx, "2026-11-26T15:00:00Z")
    assert sbx.patch("/wms/api/warehouses/DC1", json={"cutoffTime": "16:30"}).status_code == 200
    assert create(sbx)["waveId"] == "WV-DC1-20261126"
    assert sbx.patch("/wms/api/warehouses/DC1", json={"cutoffTime": "late"}).status_code == 422


def test_allocation_covers_what_is_on_hand(sbx):
    order = create(sbx, lines=[{"itemId": "HW-61610-C", "orderedQty": 72}, {"itemId": "HW-20620-C", "orderedQty": 5}])
    assert order["statusCode"] == 25 and order["status"] == "PartiallyAllocated"
    assert [l["allocatedQty"] for l in order["lines"]] == [48, 5]
    stock = sbx.get("/wms/api/inventory/HW-61610-C").json["data"]
    assert (stock["onHandQty"], stock["allocatedQty"], stock["availableQty"]) == (48, 48, 0)


def test_short_pick_then_partial_then_final_shipment(sbx):
    order = create(sbx, lines=[{"itemId": "HW-20620-C", "orderedQty": 240}, {"itemId": "HW-42614-B", "orderedQty": 6}])
    picked = sbx.post(f"{ORDERS}/{order['id']}/pick-confirm",
                      json={"lines": [{"lineNumber": 1, "pickedQty": 200, "shortReason": "DAMAGED"}]}).json["data"]
    assert picked["status"] == "Picked"
    assert [(l["pickedQty"], l["shortPickedQty"]) for l in picked["lines"]] == [(200, 40), (6, 0)]
    events = sbx.get("/wms/api/inventory-events").json["data"]
    assert [(e["itemId"], e["qtyChange"], e["reasonCode"]) for e in events] == [("HW-20620-C", -40, "SHORT_PICK")]

    first = sbx.post(f"{ORDERS}/{order['id']}/ship-confirm", json={"carrierCode": "UPSN", "parcels": [
        {"trackingNumber": "1Z1", "weightKg": 5, "lines": [{"lineNumber": 1, "qty": 100}]}]})
    assert first.status_code == 201
    shipment = first.json["data"]
    assert shipment["orderComplete"] is False and shipment["parcels"][0]["parcelId"] == "SHP0000001-1"
    assert [(l["shippedQty"], l["shortQty"]) for l in shipment["lines"]] == [(100, 40), (0, 0)]
    assert sbx.get(f"{ORDERS}/{order['id']}").json["data"]["status"] == "PartiallyShipped"

    last = sbx.post(f"{ORDERS}/{order['id']}/ship-confirm", json={"parcels": [
        {"lines": [{"lineNumber": 1, "qty": 100}]}, {"lines": [{"itemId": "HW-42614-B", "qty": 6}]}]}).json["data"]
    assert last["orderComplete"] is True and len(last["parcels"]) == 2
    assert sbx.get(f"{ORDERS}/{order['id']}").json["data"]["statusCode"] == 40
    stock = sbx.get("/wms/api/inventory/HW-20620-C").json["data"]
    assert (stock["onHandQty"], stock["allocatedQty"]) == (40_000 - 240, 0)
    assert [s["shipmentId"] for s in sbx.get("/wms/api/shipments?orderNumber=SO101001").json["data"]] == [
        "SHP0000001", "SHP0000002"]
    one_more = {"parcels": [{"lines": [{"lineNumber": 1, "qty": 1}]}]}
    again = sbx.post(f"{ORDERS}/{order['id']}/ship-confirm", json=one_more)
    assert again.status_code == 409


def test_shipping_more_than_allocated_or_picked_is_refused(sbx):
    order = create(sbx, lines=[{"itemId": "HW-20620-C", "orderedQty": 10}])
    eleven = {"parcels": [{"lines": [{"lineNumber": 1, "qty": 11}]}]}
    over = sbx.post(f"{ORDERS}/{order['id']}/ship-confirm", json=eleven)
    assert over.status_code == 422 and over.json["messages"][0]["field"] == "parcels[0].lines[0].qty"
    assert sbx.post(f"{ORDERS}/{order['id']}/pick-confirm", json={"lines": [{"lineNumber": 1, "pickedQty": 11}]}
                    ).status_code == 422
    assert sbx.post(f"{ORDERS}/{order['id']}/ship-confirm", json={"parcels": [{"lines": [{"lineNumber": 9, "qty": 1}]}]}
                    ).status_code == 422


def test_duplicate_order_numbers_and_bad_lines_are_rejected(sbx):
    create(sbx)
    duplicate = sbx.post(ORDERS, json={"orderNumber": "SO101001", "lines": [{"itemId": "HW-20620-C", "orderedQty": 1}]})
    assert duplicate.status_code == 409
    assert duplicate.json == {"success": False, "messages": [{
        "messageKey": "WMS-DUPLICATE_ORDER", "severity": "ERROR", "field": "orderNumber",
        "description": "Order SO101001 already exists as shipping order WO100001."}]}
    for line, field in [({"itemId": "HW-20620-C", "orderedQty": 1, "uom": "CS"}, "lines[0].uom"),
                        ({"itemId": "NOPE", "orderedQty": 1}, "lines[0].itemId"),
                        ({"itemId": "HW-20620-C", "orderedQty": 0}, "lines[0].orderedQty")]:
        r = sbx.post(ORDERS, json={"orderNumber": "X", "lines": [line]})
        assert r.status_code == 422 and r.json["messages"][0]["field"] == field


def test_cancel_releases_the_allocation(sbx):
    order = create(sbx, lines=[{"itemId": "HW-20620-C", "orderedQty": 10}])
    r = sbx.post(f"{ORDERS}/{order['id']}/cancel")
    assert r.status_code == 200 and r.json["data"]["status"] == "Cancelled"
    assert sbx.get("/wms/api/inventory/HW-20620-C").json["data"]["allocatedQty"] == 0


def test_cancel_after_a_partial_shipment_closes_the_order_as_shipped(sbx):
    order = create(sbx, lines=[{"itemId": "HW-20620-C", "orderedQty": 10}])
    sbx.post(f"{ORDERS}/{order['id']}/ship-confirm", json={"parcels": [{"lines": [{"lineNumber": 1, "qty": 4}]}]})
    closed = sbx.post(f"{ORDERS}/{order['id']}/cancel").json["data"]
    assert closed["status"] == "Shipped" and closed["lines"][0]["cancelledQty"] == 6
    assert sbx.get("/wms/api/inventory/HW-20620-C").json["data"]["allocatedQty"] == 0


def test_patch_needs_the_current_version(sbx):
    order = create(sbx)
    url = f"{ORDERS}/{order['id']}"
    etag = sbx.get(url).headers["ETag"]
    assert sbx.patch(url, json={"carrierCode": "FDEG"}, headers={"If-Match": etag}).json["data"]["recordVersion"] == 2
    stale = sbx.patch(url, json={"carrierCode": "ODFL"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert sbx.get(url).json["data"]["carrierCode"] == "FDEG"


def test_shipping_orders_page(sbx):
    for n in range(5):
        create(sbx, f"SO-{n}", [{"itemId": "HW-20620-C", "orderedQty": 1}])
    page = sbx.get(f"{ORDERS}?page=2&pageSize=2").json
    assert (page["totalCount"], page["totalPages"], page["page"]) == (5, 3, 2)
    assert [o["orderNumber"] for o in page["data"]] == ["SO-2", "SO-3"]
    assert sbx.get(f"{ORDERS}?orderNumber=SO-4").json["totalCount"] == 1
    wave, status = page["data"][0]["waveId"], page["data"][0]["statusCode"]
    for query, count in ((f"waveId={wave}", 5), (f"statusCode={status}", 5),
                         (f"orderNumber=SO-1&statusCode={status}", 1), ("orderNumber=SO-1&waveId=WV-none", 0),
                         ("orderNumber=SO-9", 0)):
        listed = sbx.get(f"{ORDERS}?{query}&pageSize=2").json  # each combination of filters, then again: same answer
        assert listed == sbx.get(f"{ORDERS}?{query}&pageSize=2").json and listed["totalCount"] == count, query
        assert len(listed["data"]) == min(count, 2)
    assert sbx.get(f"{ORDERS}?page=0").status_code == 400
    assert sbx.get(f"{ORDERS}/WO999").status_code == 404
