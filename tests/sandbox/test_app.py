"""The app factory: every error is JSON in the style of the system it concerns, never an HTML page."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.app import create_app


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One app for the garbage matrix: rejected requests change nothing, so the cases can share it."""
    return create_app(f"sqlite:///{tmp_path_factory.mktemp('garbage')}/s.sqlite").test_client()


@pytest.mark.parametrize("path, shape", [
    ("/erp/api/nope", lambda j: j["error"]["code"] == "not_found"),
    ("/oms/api/nope", lambda j: "base" in j["errors"]),
    ("/wms/api/nope", lambda j: j["success"] is False and j["messages"][0]["messageKey"] == "WMS-NOT_FOUND"),
    ("/tms/api/nope", lambda j: j["status"] == 404 and j["type"] == "urn:sandbox:tms:not_found"),
    ("/nope", lambda j: j["error"]["code"] == "not_found"),
])
def test_unknown_paths_are_404_in_each_systems_style(sbx, path, shape):
    r = sbx.get(path)
    assert r.status_code == 404 and r.is_json and shape(r.json)


def test_wrong_method_is_405_json(sbx):
    r = sbx.delete("/erp/api/sales-orders")
    assert r.status_code == 405 and r.json["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/erp/api/sales-orders", "/oms/api/orders", "/wms/api/shipping-orders",
                                  "/tms/api/shipments", "/tms/api/rate-quotes", "/erp/api/item-journal",
                                  "/wms/api/expected-receipts", "/oms/api/webhook-subscriptions",
                                  "/erp/api/sales-credit-memos", "/wms/api/inventory-adjustments"])
@pytest.mark.parametrize("payload", [[], "text", None, {"lines": [1, 2]}, {"line_items": {"a": 1}},
                                     {"packages": [{"weightKg": "heavy"}]}, {"lines": [{"quantity": None}]}])
def test_garbage_bodies_are_4xx_never_500(shared, path, payload):
    r = shared.post(path, json=payload)
    assert 400 <= r.status_code < 500, (r.status_code, r.json)
    assert r.is_json


def test_oversized_bodies_are_413(sbx):
    r = sbx.post("/erp/api/sales-orders", data="x" * (3 * 1024 * 1024), content_type="application/json")
    assert r.status_code == 413 and r.json["error"]["code"] == "request_entity_too_large"


WRITES = [("POST", "/erp/api/sales-orders"), ("POST", "/erp/api/sales-orders/SO101001/shipments"),
          ("POST", "/erp/api/sales-orders/SO101001/release"), ("POST", "/erp/api/sales-credit-memos"),
          ("POST", "/erp/api/item-journal"), ("PATCH", "/erp/api/customers/C-10442"),
          ("POST", "/wms/api/shipping-orders"), ("POST", "/wms/api/shipping-orders/WO100001/pick-confirm"),
          ("POST", "/wms/api/shipping-orders/WO100001/ship-confirm"), ("PATCH", "/wms/api/shipping-orders/WO100001"),
          ("POST", "/wms/api/expected-receipts"), ("POST", "/wms/api/expected-receipts/ER000001/receive"),
          ("POST", "/wms/api/inventory-adjustments"), ("POST", "/oms/api/orders"),
          ("PATCH", "/oms/api/orders/5001001"), ("POST", "/oms/api/orders/5001001/fulfillments"),
          ("POST", "/oms/api/orders/5001001/returns"), ("POST", "/oms/api/orders/5001001/refunds"),
          ("POST", "/oms/api/inventory_levels/set"), ("POST", "/tms/api/rate-quotes"), ("POST", "/tms/api/shipments"),
          ("POST", "/tms/api/shipments/TS0000001/events"), ("POST", "/wms/api/_clock")]
FIELDS = ["externalDocumentNo", "customerNo", "lines", "itemNo", "quantity", "unitOfMeasureCode", "unitPrice",
          "lineNo", "orderDate", "shipTo", "disposition", "entryType", "creditLimit", "orderNumber", "itemId",
          "orderedQty", "lineNumber", "pickedQty", "parcels", "qty", "receivedQty", "condition", "qtyChange",
          "order", "line_items", "sku", "status", "available", "packages", "weightKg", "carrierCode", "serviceCode",
          "rateId", "code", "occurredAt", "now", "SO_HEADER", "LINES"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                    st.sampled_from(["", "HW-20620-C", "hw-20620-c", "C-10442", "CS", "restock", "released", "PU",
                                     "UPSN", "GND", "2026-11-26", "14:00"]), st.text(max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)), max_leaves=12)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    client = create_app(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/s.sqlite").test_client()
    client.post("/erp/api/sales-orders", json={"externalDocumentNo": "A", "customerNo": "C-10442",
                                               "lines": [{"itemNo": "HW-20620-C", "quantity": 1}]})
    client.post("/wms/api/shipping-orders", json={"orderNumber": "A", "lines": [{"itemId": "HW-20620-C",
                                                                                 "orderedQty": 5}]})
    client.post("/wms/api/expected-receipts", json={"receiptNumber": "R", "lines": [{"itemId": "HW-20620-C",
                                                                                    "expectedQty": 5}]})
    client.post("/oms/api/orders", json={"line_items": [{"sku": "hw-20620-c", "quantity": 2}]})
    client.post("/tms/api/shipments", json={"reference": "R", "carrierCode": "UPSN", "serviceCode": "GND",
                                            "packages": [{"weightKg": 1}]})
    return client


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(WRITES), body=st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6))
def test_no_body_makes_a_write_endpoint_fail_with_5xx(seeded, endpoint, body):
    method, path = endpoint
    r = seeded.open(path, method=method, json=body)
    assert r.status_code < 500, (method, path, body, r.get_json())
