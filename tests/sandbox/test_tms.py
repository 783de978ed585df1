"""TMS: rate quotes per carrier and service, bookings with predictable tracking numbers, tracking events."""
from __future__ import annotations

import pytest

COLUMBUS, CHICAGO = {"postalCode": "43217"}, {"postalCode": "60614"}


def book(sbx, reference, carrier="UPSN", service="GND", weights=(12,)):
    return sbx.post("/tms/api/shipments", json={
        "reference": reference, "carrierCode": carrier, "serviceCode": service, "shipFrom": COLUMBUS,
        "shipTo": CHICAGO, "packages": [{"weightKg": w} for w in weights]})


def test_parcel_quotes_are_sorted_by_price_and_exclude_ltl(sbx):
    r = sbx.post("/tms/api/rate-quotes", json={"shipFrom": COLUMBUS, "shipTo": CHICAGO, "packages": [{"weightKg": 12}]})
    assert r.status_code == 201
    rates = r.json["rates"]
    assert [x["totalCharge"] for x in rates] == sorted(x["totalCharge"] for x in rates)
    assert {x["carrierCode"] for x in rates} == {"UPSN", "FDEG"}
    ground = next(x for x in rates if x["serviceCode"] == "GND")
    assert ground["totalCharge"] == round((9.40 + 0.95 * 12) * 1.16, 2)  # zone 3: 4xxxx to 6xxxx
    assert sbx.get(f"/tms/api/rate-quotes/{r.json['quoteId']}").json == r.json


def test_heavy_freight_goes_ltl_only(sbx):
    rates = sbx.post("/tms/api/rate-quotes", json={"shipTo": CHICAGO, "packages": [{"weightKg": 400}]}).json["rates"]
    assert [(x["carrierCode"], x["serviceCode"]) for x in rates] == [("ODFL", "LTL")]


def test_tracking_numbers_are_carrier_prefix_plus_counter(sbx):
    assert book(sbx, "SHP-1").json["trackingNumber"] == "1Z0000000001"
    assert book(sbx, "SHP-2").json["trackingNumber"] == "1Z0000000002"
    assert book(sbx, "SHP-3", "FDEG", "FDXG").json["trackingNumber"] == "77120000000001"
    freight = book(sbx, "SHP-4", "ODFL", "LTL", weights=(300, 250))
    assert freight.status_code == 201 and freight.json["trackingNumber"] == "PRO0000000001"
    assert [s["reference"] for s in sbx.get("/tms/api/shipments?carrierCode=UPSN").json["items"]] == ["SHP-1", "SHP-2"]


def test_booking_a_quoted_rate(sbx):
    quote = sbx.post("/tms/api/rate-quotes", json={"shipTo": CHICAGO, "packages": [{"weightKg": 3}]}).json
    cheapest = quote["rates"][0]
    booked = sbx.post("/tms/api/shipments", json={"reference": "SHP-9", "rateId": cheapest["rateId"],
                                                  "shipTo": CHICAGO, "packages": [{"weightKg": 3}]}).json
    assert (booked["carrierCode"], booked["serviceCode"], booked["totalCharge"]) == (
        cheapest["carrierCode"], cheapest["serviceCode"], cheapest["totalCharge"])


@pytest.mark.parametrize("body, param", [
    ({"reference": "A", "carrierCode": "XXXX", "serviceCode": "GND", "packages": [{"weightKg": 1}]}, "carrierCode"),
    ({"reference": "A", "carrierCode": "UPSN", "serviceCode": "LTL", "packages": [{"weightKg": 1}]}, "serviceCode"),
    ({"reference": "A", "carrierCode": "UPSN", "serviceCode": "GND", "packages": [{"weightKg": 90}]}, "packages"),
    ({"reference": "A", "carrierCode": "UPSN", "serviceCode": "GND", "packages": [{"weightKg": 0}]},
     "packages[0].weightKg"),
    ({"reference": "A", "rateId": "Q9-1", "packages": [{"weightKg": 1}]}, "rateId"),
    ({"carrierCode": "UPSN", "serviceCode": "GND", "packages": [{"weightKg": 1}]}, "reference"),
])
def test_bad_bookings_are_problem_documents(sbx, body, param):
    r = sbx.post("/tms/api/shipments", json=body)
    assert r.status_code == 422 and r.json["status"] == 422
    assert r.json["invalidParams"][0]["name"] == param


def test_a_reference_books_once(sbx):
    book(sbx, "SHP-1")
    again = book(sbx, "SHP-1")
    assert again.status_code == 409 and again.json["type"] == "urn:sandbox:tms:duplicate_reference"


def test_tracking_events_move_the_shipment_to_delivered(sbx):
    shipment = book(sbx, "SHP-1").json
    url = f"/tms/api/shipments/{shipment['shipmentId']}"
    for code, status in [("PU", "PICKED_UP"), ("IT", "IN_TRANSIT"), ("DL", "DELIVERED")]:
        r = sbx.post(url + "/events", json={"code": code, "location": "Chicago, IL"})
        assert r.status_code == 200 and r.json["status"] == status
    assert sbx.post(url + "/events", json={"code": "EX"}).status_code == 409
    assert sbx.post(url + "/events", json={"code": "ZZ"}).status_code == 422
    tracking = sbx.get(f"/tms/api/tracking/{shipment['trackingNumber']}").json
    assert [e["code"] for e in tracking["events"]] == ["BK", "PU", "IT", "DL"]
    assert [e["sequence"] for e in sbx.get("/tms/api/tracking-events?afterSequence=2").json["items"]] == [3, 4]
    assert sbx.get("/tms/api/tracking/1Z9").status_code == 404


def test_scan_times_follow_the_clock_or_the_event(sbx):
    sbx.post("/tms/api/_clock", json={"now": "2026-11-26T08:00:00Z"})
    shipment = book(sbx, "SHP-1").json
    assert shipment["estimatedDelivery"] == "2026-12-01"
    url = f"/tms/api/shipments/{shipment['shipmentId']}/events"
    sbx.post(url, json={"code": "PU", "occurredAt": "2026-11-26T17:45:00-05:00"})
    assert sbx.post(url, json={"code": "IT", "occurredAt": "yesterday"}).status_code == 422
    events = sbx.get(f"/tms/api/tracking/{shipment['trackingNumber']}").json["events"]
    assert [e["occurredAt"] for e in events] == ["2026-11-26T08:00:00Z", "2026-11-26T22:45:00Z"]


def test_void_only_before_pickup_and_with_the_current_version(sbx):
    first, second = book(sbx, "SHP-1").json, book(sbx, "SHP-2").json
    stale = sbx.post(f"/tms/api/shipments/{first['shipmentId']}/void", headers={"If-Match": '"9"'})
    assert stale.status_code == 412
    assert sbx.post(f"/tms/api/shipments/{first['shipmentId']}/void").json["status"] == "VOIDED"
    sbx.post(f"/tms/api/shipments/{second['shipmentId']}/events", json={"code": "PU"})
    assert sbx.post(f"/tms/api/shipments/{second['shipmentId']}/void").status_code == 409


def test_lists_page_with_limit_offset_and_next(sbx):
    for n in range(3):
        book(sbx, f"SHP-{n}")
    page = sbx.get("/tms/api/shipments?limit=2").json
    assert (page["total"], len(page["items"])) == (3, 2)
    rest = sbx.get(page["next"].removeprefix("http://localhost")).json
    assert [s["reference"] for s in rest["items"]] == ["SHP-2"] and rest["next"] is None
    assert sbx.get("/tms/api/shipments?limit=x").json["status"] == 400
