"""The app factory: every error is JSON in the style of the system it concerns, never an HTML page."""
from __future__ import annotations

import pytest

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
