"""Serving over real HTTP in a thread, as the embedded Crossdock does; concurrent writers lose nothing."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from sandbox.serve import start_in_thread


def test_start_in_thread_serves_on_an_ephemeral_port_until_shutdown(tmp_path):
    server = start_in_thread("127.0.0.1", 0, f"sqlite:///{tmp_path}/s.sqlite")
    base = f"http://127.0.0.1:{server.server_port}"
    http = requests.Session()
    http.trust_env = False
    try:
        r = http.post(f"{base}/erp/api/sales-orders", json={
            "externalDocumentNo": "SO-1", "customerNo": "C-10442",
            "lines": [{"itemNo": "HW-20620-C", "quantity": 1, "unitOfMeasureCode": "CS"}]}, timeout=10)
        assert r.status_code == 201 and r.headers["Location"] == f"{base}/erp/api/sales-orders/SO101001"
        assert http.get(f"{base}/erp/", timeout=10).status_code == 200
    finally:
        server.shutdown()
        server.server_close()


def test_concurrent_requests_keep_numbers_unique_and_stock_exact(tmp_path):
    """Threaded requests on SQLite: BEGIN IMMEDIATE must serialise read-modify-write."""
    server = start_in_thread("127.0.0.1", 0, f"sqlite:///{tmp_path}/s.sqlite")
    base = f"http://127.0.0.1:{server.server_port}"

    def post(n):
        with requests.Session() as http:
            http.trust_env = False
            return http.post(f"{base}/wms/api/shipping-orders", json={
                "orderNumber": f"SO-{n}", "lines": [{"itemId": "HW-61610-C", "orderedQty": 1}]}, timeout=30)

    try:
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(post, range(60)))
        assert [r.status_code for r in responses] == [201] * 60
        ids = {r.json()["data"]["id"] for r in responses}
        assert len(ids) == 60
        allocated = sorted(r.json()["data"]["lines"][0]["allocatedQty"] for r in responses)
        assert allocated == [0] * 12 + [1] * 48  # exactly the 48 on hand, never more
        stock = requests.get(f"{base}/wms/api/inventory/HW-61610-C", timeout=10).json()["data"]
        assert stock["allocatedQty"] == 48
    finally:
        server.shutdown()
        server.server_close()
