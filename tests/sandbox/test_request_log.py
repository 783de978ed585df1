"""The sandbox systems' own request log (GET /_requests): what a client did to a system, as the system saw it."""
from __future__ import annotations

import time


def test_each_api_request_is_logged_with_its_system_and_arrival_time_and_test_control_is_not(sbx):
    before = time.time()
    assert sbx.get("/erp/api/items/HW-20620-C").status_code == 200
    assert sbx.post("/erp/api/sales-orders", json={}).status_code == 422  # refused requests arrived too
    assert sbx.get("/oms/api/products").status_code == 200
    assert sbx.post("/erp/api/_clock", json={"now": None}).status_code == 200  # test control: not logged
    assert sbx.get("/erp/").status_code == 200  # a page: not the API

    erp = sbx.get("/_requests?system=erp").json
    assert [(r["method"], r["path"]) for r in erp["requests"]] == [
        ("GET", "/erp/api/items/HW-20620-C"), ("POST", "/erp/api/sales-orders")]
    assert erp["count"] == 2 and all(before <= r["at"] <= time.time() for r in erp["requests"])
    assert erp["requests"][0]["at"] <= erp["requests"][1]["at"]
    assert sbx.get("/_requests").json["count"] == 3
    assert sbx.get(f"/_requests?since={time.time() + 60}").json["count"] == 0
    assert sbx.get("/_requests?since=soon").status_code == 422

    assert sbx.delete("/_requests").status_code == 200
    assert sbx.get("/_requests").json["count"] == 0
