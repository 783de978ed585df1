"""Test control: each system's clock and reset to the seed, one system at a time or all four."""
from __future__ import annotations

import pytest


def test_the_clock_freezes_and_thaws(sbx):
    frozen = sbx.post("/erp/api/_clock", json={"now": "2026-12-24T10:00:00+01:00"})
    assert frozen.json == {"now": "2026-12-24T09:00:00Z", "frozen": True}
    so = sbx.post("/erp/api/sales-orders", json={"externalDocumentNo": "X", "customerNo": "C-10442",
                                                 "lines": [{"itemNo": "HW-20620-C", "quantity": 1}]}).json
    assert so["orderDate"] == "2026-12-24" and so["createdAt"] == "2026-12-24T09:00:00Z"
    assert sbx.get("/wms/api/_clock").json["frozen"] is False  # each system has its own clock
    assert sbx.post("/erp/api/_clock", json={"now": None}).json["frozen"] is False


@pytest.mark.parametrize("body", [{}, {"now": "tomorrow"}, {"now": 5}])
def test_bad_clock_values_are_422(sbx, body):
    r = sbx.post("/wms/api/_clock", json=body)
    assert r.status_code == 422 and r.json["success"] is False


def test_reset_restores_one_system_and_leaves_the_others(sbx):
    sbx.post("/wms/api/inventory-adjustments", json={"itemId": "HW-61610-C", "qtyChange": 100})
    sbx.post("/erp/api/sales-orders", json={"externalDocumentNo": "X", "customerNo": "C-10442",
                                            "lines": [{"itemNo": "HW-20620-C", "quantity": 1}]})
    sbx.post("/wms/api/_clock", json={"now": "2026-11-26T15:00:00Z"})
    assert sbx.post("/wms/api/_reset").json == {"reset": "wms"}
    assert sbx.get("/wms/api/inventory/HW-61610-C").json["data"]["onHandQty"] == 48
    assert sbx.get("/wms/api/inventory-events").json["totalCount"] == 0
    assert sbx.get("/wms/api/_clock").json["frozen"] is False
    assert sbx.get("/erp/api/sales-orders").json["@odata.count"] == 1


def test_reset_all_restarts_document_numbers(sbx):
    body = {"externalDocumentNo": "X", "customerNo": "C-10442", "lines": [{"itemNo": "HW-20620-C", "quantity": 1}]}
    sbx.post("/erp/api/sales-orders", json=body, headers={"Idempotency-Key": "k"})
    sbx.post("/tms/api/shipments", json={"reference": "R", "carrierCode": "UPSN", "serviceCode": "GND",
                                         "packages": [{"weightKg": 1}]})
    assert sbx.post("/_reset").json == {"reset": ["oms", "erp", "wms", "tms", "netsuite", "edi"]}
    assert sbx.get("/erp/api/sales-orders").json["@odata.count"] == 0
    # the idempotency key is forgotten with the order it created
    assert sbx.post("/erp/api/sales-orders", json=body, headers={"Idempotency-Key": "k"}).json["no"] == "SO101001"
    assert sbx.post("/tms/api/shipments", json={"reference": "R", "carrierCode": "UPSN", "serviceCode": "GND",
                                                "packages": [{"weightKg": 1}]}).json["trackingNumber"] == "1Z0000000001"
