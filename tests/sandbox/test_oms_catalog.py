"""OMS catalogue: products, customers and inventory levels (set, and adjust once per Idempotency-Key)."""
from __future__ import annotations


def test_inventory_levels_set_and_adjust(sbx):
    assert sbx.post("/oms/api/inventory_levels/set", json={"sku": "hw-61610-c", "available": 30}).json[
        "inventory_level"]["available"] == 30
    assert sbx.post("/oms/api/inventory_levels/adjust", json={"sku": "hw-61610-c", "available_adjustment": -5}).json[
        "inventory_level"]["available"] == 25
    assert sbx.get("/oms/api/inventory_levels?sku=hw-61610-c").json["inventory_levels"][0]["available"] == 25
    assert sbx.post("/oms/api/inventory_levels/set", json={"sku": "HW-61610-C", "available": 1}).status_code == 422
    assert len(sbx.get("/oms/api/products?limit=250").json["products"]) == 25
    assert len(sbx.get("/oms/api/customers").json["customers"]) == 5


def test_an_adjustment_applies_once_per_idempotency_key_and_a_set_is_simply_repeated(sbx):
    adjust = {"sku": "hw-20620-c", "available_adjustment": -5}
    levels = [sbx.post("/oms/api/inventory_levels/adjust", json=adjust, headers={"Idempotency-Key": "adj-1"})
              .json["inventory_level"]["available"] for _ in range(2)]
    assert levels[0] == levels[1]
    assert sbx.post("/oms/api/inventory_levels/adjust", json=adjust).json["inventory_level"]["available"] == (
        levels[0] - 5)
    level = {"sku": "hw-20620-c", "available": 7}
    for _ in range(2):
        r = sbx.post("/oms/api/inventory_levels/set", json=level, headers={"Idempotency-Key": "set-1"})
        assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
