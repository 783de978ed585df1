"""Runs/s and intake-to-finish latency of webhook -> map -> choice -> HTTP sink (issue 2, acceptance 7).

Usage: python bench/throughput.py [--orders 2000] [--repeat 3] [--modes embedded,redis]
Embedded: one `run.py` process (SQLite, in-process queue). Redis: `run.py web` + 2 `run.py worker`
on PostgreSQL + Redis. The sink is a plain HTTP server in its own process on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ORDER = json.load(open(os.path.join(harness.ROOT, "flows", "samples", "order.json")))


def flow(sink_url: str) -> dict:
    e = lambda i, s, t, p="out": {"id": f"e{i}", "source": s, "source_port": p, "target": t, "target_port": "in"}  # noqa: E731
    return {"schema": "crossdock.flow/1", "id": "bench", "name": "Throughput bench",
            "settings": {"business_key": "orderId"},
            "nodes": [
                {"id": "hook", "type": "event.webhook", "config": {"path": "bench"}},
                {"id": "map", "type": "transform.map", "config": {"expression": (
                    "{'ref': orderId, 'customer': customer.id, 'total': $round($sum(lines.(qty * unitPrice)), 2),"
                    " 'lines': lines.{'item': $uppercase(sku), 'qty': qty}}")}},
                {"id": "route", "type": "branch.choice", "config": {"rules": [{"port": "large", "when": "total > 1000"}]}},
                {"id": "large", "type": "connector.http", "config": {"url": sink_url + "/large"}},
                {"id": "small", "type": "connector.http", "config": {"url": sink_url + "/small"}}],
            "edges": [e(1, "hook", "map"), e(2, "map", "route"), e(3, "route", "large", "large"),
                      e(4, "route", "small", "otherwise")]}


def once(mode: str, orders: int) -> dict:
    procs = harness.Processes()
    try:
        sink = procs.sink()
        base, _env = procs.crossdock(mode, workers=2)
        harness.deploy(base, flow(sink))
        messages = [{**ORDER, "orderId": f"B-{i}"} for i in range(orders)]
        harness.post_all(base + "/hooks/default/bench", messages)
        runs = harness.wait_finished(base, "bench", orders)
        return harness.timings(runs)
    finally:
        procs.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--modes", default="embedded,redis")
    args = ap.parse_args()
    for mode in args.modes.split(","):
        results = [once(mode, args.orders) for _ in range(args.repeat)]
        m = harness.median_of(results)
        print(f"{mode:<9} {args.orders} orders x{args.repeat}: {m['runs_per_s']:.1f} runs/s (median), "
              f"latency p50 {m['p50_ms']:.0f} ms, p99 {m['p99_ms']:.0f} ms, failed {m['failed']:.0f}", flush=True)


if __name__ == "__main__":
    main()
