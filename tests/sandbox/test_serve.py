"""Serving over real HTTP in a thread, as the embedded Crossdock does; concurrent writers lose nothing."""
from __future__ import annotations

import os
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


def test_connections_are_kept_alive_and_an_unread_body_never_reaches_the_next_request(tmp_path):
    """One connection carries many requests (Werkzeug's own handler closes each one); a body the app never
    reads is consumed with its request, so the next request line is parsed as such."""
    import http.client
    import json

    server = start_in_thread("127.0.0.1", 0, f"sqlite:///{tmp_path}/s.sqlite")
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    try:
        conn.request("GET", "/erp/api/customers/C-10442")
        first = conn.getresponse()
        assert first.status == 200 and json.loads(first.read())["number"] == "C-10442"
        sock = conn.sock
        # cancel never reads its body: an order that does not exist fails before
        conn.request("POST", "/erp/api/sales-orders/SO999/cancel", body=b'{"x": "' + b"y" * 5000 + b'"}',
                     headers={"Content-Type": "application/json"})
        missing = conn.getresponse()
        assert missing.status == 404 and missing.getheader("Connection") != "close"
        missing.read()
        conn.request("GET", "/oms/api/products?limit=1")
        after = conn.getresponse()
        assert after.status == 200 and len(json.loads(after.read())["products"]) == 1
        assert conn.sock is sock  # the same connection throughout
    finally:
        conn.close()
        server.shutdown()
        server.server_close()


def test_a_chunked_body_is_still_served(tmp_path):
    server = start_in_thread("127.0.0.1", 0, f"sqlite:///{tmp_path}/s.sqlite")
    http = requests.Session()
    http.trust_env = False
    body = iter([b'{"externalDocumentNo": "SO-C", "customerNo": "C-10442", ',
                 b'"lines": [{"itemNo": "HW-20620-C", "quantity": 1}]}'])
    try:
        r = http.post(f"http://127.0.0.1:{server.server_port}/erp/api/sales-orders", data=body,
                      headers={"Content-Type": "application/json"}, timeout=10)
        assert r.status_code == 201 and r.json()["externalDocumentNo"] == "SO-C"
        assert http.get(f"http://127.0.0.1:{server.server_port}/erp/api/sales-orders/{r.json()['no']}",
                        timeout=10).status_code == 200
    finally:
        server.shutdown()
        server.server_close()


def test_a_sandbox_process_serves_keeps_alive_and_ends_with_its_parent(tmp_path):
    import subprocess
    import sys
    import time

    from sandbox.serve import start_in_process

    sandbox = start_in_process("127.0.0.1", 0, f"sqlite:///{tmp_path}/s.sqlite")
    http = requests.Session()
    http.trust_env = False
    try:
        r = http.get(f"http://127.0.0.1:{sandbox.server_port}/erp/api/customers/C-10442", timeout=10)
        assert r.status_code == 200 and r.headers.get("Connection") != "close"
    finally:
        sandbox.shutdown()
    assert sandbox.process.poll() is not None

    # a parent killed outright takes its sandbox with it
    parent = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from sandbox.serve import start_in_process; "
        f"s = start_in_process('127.0.0.1', 0, 'sqlite:///{tmp_path}/p.sqlite'); "
        "print(s.process.pid, flush=True); time.sleep(60)")], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{child}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break  # exited; whoever adopted it has not reaped it yet
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        os.kill(child, 9)
        raise AssertionError("the sandbox process outlived its parent")
