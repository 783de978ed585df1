"""Orders/s and order-to-WMS latency of the order-release template against the sandbox systems (issue 5,
acceptance 5).

Usage: python bench/order_release.py [--orders 2000] [--modes embedded,redis]
Embedded: one `run.py` process (SQLite, in-process queue, its own sandbox). Redis: `run.py web` +
2 `run.py worker` on PostgreSQL + Redis, and `run.py sandbox` in its own process. Orders are created in
the sandbox OMS first, then their orders/create payloads are posted to the flow's webhook.
Latency: from the run's intake to the end of its WMS shipping-order step.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CUSTOMERS = (7001, 7002, 7003, 7004)  # not 7005: its credit limit would hold most orders
SKUS = ("hw-20620-c", "hw-13687-b", "hw-87462-d", "hw-33126-c", "hw-66714-z", "hw-27737-c", "hw-55143-c",
        "hw-11884-a", "hw-34189-d", "hw-89561-b")
_sessions = threading.local()


def _session() -> requests.Session:
    if not hasattr(_sessions, "s"):
        _sessions.s = requests.Session()
    return _sessions.s


def oms_orders(sandbox: str, count: int) -> list[dict]:
    def create(i: int) -> dict:
        lines = [{"sku": SKUS[(i + k) % len(SKUS)], "quantity": 1 + (i + k) % 3} for k in range(1 + i % 3)]
        r = _session().post(f"{sandbox}/oms/api/orders", json={"order": {
            "customer": {"id": CUSTOMERS[i % len(CUSTOMERS)]}, "line_items": lines}}, timeout=30)
        r.raise_for_status()
        return r.json()["order"]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(create, range(count)))


def install(base: str, sandbox: str) -> None:
    r = requests.post(base + "/api/v1/templates/import", json={
        "template": "order-release",
        "connections": {s: {"system": s, "base_url": f"{sandbox}/{s}/api"} for s in ("erp", "oms", "wms")}})
    if r.status_code != 201 or r.json()["deployed_version"] is None:
        raise RuntimeError(r.text)


def latencies(base: str, runs: list[dict]) -> list[float]:
    """Milliseconds from intake to the end of the WMS step, for runs that reached the WMS."""
    parse = lambda s: time.mktime(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + s[19:-1])  # noqa: E731

    def one(run: dict) -> float | None:
        detail = _session().get(f"{base}/api/v1/runs/{run['id']}", timeout=30).json()["run"]
        wms = [s for s in detail["steps"] if s["node_id"] == "wms_order" and s["status"] == "succeeded"]
        return (parse(wms[0]["finished_at"]) - parse(detail["created_at"])) * 1000 if wms else None

    with ThreadPoolExecutor(8) as pool:
        return sorted(v for v in pool.map(one, runs) if v is not None)


def once(mode: str, orders: int) -> dict:
    procs = harness.Processes()
    try:
        base, env = procs.crossdock(mode, workers=2)
        sandbox = f"http://127.0.0.1:{env['CROSSDOCK_SANDBOX_PORT']}"
        if mode == "redis":  # the web process has no sandbox of its own: start one beside it
            os.makedirs(env["CROSSDOCK_DATA_DIR"], exist_ok=True)
            procs.start([sys.executable, "run.py", "sandbox"], env)
        harness.wait_http(sandbox + "/oms/api/products")
        install(base, sandbox)
        payloads = oms_orders(sandbox, orders)
        harness.post_all(base + "/hooks/default/oms/orders", payloads)
        runs = harness.wait_finished(base, "order-release", orders)
        figures = harness.timings(runs)
        lat = latencies(base, runs)
        wms = requests.get(f"{sandbox}/wms/api/shipping-orders", params={"pageSize": 1}).json()["totalCount"]
        return {**figures, "wms_orders": wms, "to_wms_p50_ms": lat[len(lat) // 2],
                "to_wms_p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))]}
    finally:
        procs.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--modes", default="embedded,redis")
    args = ap.parse_args()
    for mode in args.modes.split(","):
        m = once(mode, args.orders)
        print(f"{mode:<9} {args.orders} orders: {m['runs_per_s']:.1f} orders/s, order-to-WMS latency p50 "
              f"{m['to_wms_p50_ms']:.0f} ms, p99 {m['to_wms_p99_ms']:.0f} ms; {m['wms_orders']} WMS orders, "
              f"{m['failed']} failed runs", flush=True)


if __name__ == "__main__":
    main()
