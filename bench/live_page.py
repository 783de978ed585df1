"""The monitor page under live load: opens /monitor/<flow> in headless Chromium while the runtime's relay
publishes a realistic event mix (run.queued, run.started, step.started/succeeded per node, run.finished) at a
fixed rate (default 1,000 events/s for 10 s), and prints what the page went through: long tasks
(PerformanceObserver 'longtask', > 50 ms on the main thread), frame intervals (requestAnimationFrame), the
events the page received and how many times the monitor re-rendered.

Embedded mode (the in-process relay, as in `python run.py`), its own SQLite in a temporary folder, 127.0.0.1
only. Needs Debian's chromium and pip playwright. Run: python bench/live_page.py [--rate 1000] [--seconds 10]
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from runtime.wiring import Runtime  # noqa: E402
from runtime.settings import Settings  # noqa: E402
from web.app import create_app  # noqa: E402

FLOW_ID = "bench-live"
NODES = ("intake", "shape", "route", "erp")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]

OBSERVE = """() => {
  const b = (window.__bench = { longtasks: [], frames: [], stop: false });
  new PerformanceObserver((list) => { for (const e of list.getEntries()) b.longtasks.push(e.duration); })
    .observe({ type: "longtask" });
  let last = performance.now();
  const frame = (t) => { b.frames.push(t - last); last = t; if (!b.stop) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  b.events0 = window.__crossdockMonitor.events;
  b.renders0 = window.__crossdockMonitor.renders;
}"""


def flow_doc() -> dict:
    def node(i, id, type, config):
        return {"id": id, "type": type, "type_version": 1, "config": config, "position": {"x": 40 + 290 * i, "y": 120}}
    nodes = [node(0, "intake", "event.webhook", {"path": "bench-live"}),
             node(1, "shape", "transform.map", {"expression": "{ 'ref': order.number }"}),
             node(2, "route", "branch.filter", {"when": "ref != ''"}),
             node(3, "erp", "connector.http", {"url": "http://127.0.0.1:9/orders", "method": "POST"})]
    edges = [{"id": f"e{i}", "source": a, "source_port": "out", "target": b,
              "target_port": "in"} for i, (a, b) in enumerate(zip(NODES, NODES[1:]), 1)]
    return {"schema": "crossdock.flow/1", "id": FLOW_ID, "name": "Live load", "nodes": nodes, "edges": edges}


def api(base: str, method: str, path: str, body=None, headers: dict | None = None):
    req = urllib.request.Request(f"{base}/api/v1{path}", data=None if body is None else json.dumps(body).encode(),
                                 method=method, headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read() or b"null")


def run_events(run_id: int):
    """The events of one succeeded run through the four nodes, in their order."""
    base = {"workspace": "default", "flow_id": FLOW_ID, "run_id": run_id, "version": 1}
    yield "run.queued", {**base, "status": "queued", "business_key": f"PO-{run_id}"}
    yield "run.started", {**base, "status": "running", "business_key": f"PO-{run_id}"}
    for seq, node in enumerate(NODES, 1):
        step = {**base, "node_id": node, "seq": seq, "attempt": 1}
        yield "step.started", {**step, "status": "running"}
        yield "step.succeeded", {**step, "status": "succeeded", "port": "out", "duration_ms": 0.3 + seq * 0.7,
                                 "error": None}
    yield "run.finished", {**base, "status": "succeeded", "business_key": f"PO-{run_id}", "error": None}


def publish_paced(relay, rate: int, seconds: float) -> tuple[int, float]:
    total = int(rate * seconds)
    stream = (e for run_id in range(1, 10**9) for e in run_events(run_id))
    start = time.perf_counter()
    for i in range(total):
        ahead = start + i / rate - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
        relay.publish(*next(stream))
    return total, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--screenshot", help="save the page at the end of the load to this PNG")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    chromium = shutil.which("chromium")
    if not chromium:
        print("needs Debian's chromium (apt-get install chromium)")
        return 2

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        rt = Runtime(Settings(data_dir=tmp, load_samples=False))
        email, password, key = harness.admin_and_key(rt)
        server = make_server("127.0.0.1", 0, create_app(rt), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            api(base, "POST", "/flows", flow_doc(), key)
            api(base, "POST", f"/flows/{FLOW_ID}/deploy", {}, key)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            harness.log_in(page, base, email, password)
            page.goto(f"{base}/monitor/{FLOW_ID}")
            page.wait_for_function("window.__crossdockMonitor && window.__crossdockMonitor.ready", timeout=20_000)
            page.wait_for_selector("[data-testid=live-state][data-connected=true]", timeout=20_000)
            page.wait_for_timeout(500)
            page.evaluate(OBSERVE)
            sent, took = publish_paced(rt.events, args.rate, args.seconds)
            page.wait_for_timeout(1000)  # the last batches arrive and render
            page.evaluate("window.__bench.stop = true")
            b = page.evaluate("""() => ({ ...window.__bench, events: window.__crossdockMonitor.events - window.__bench.events0,
                                         renders: window.__crossdockMonitor.renders - window.__bench.renders0,
                                         erp: window.__crossdockMonitor.nodes().erp })""")
            if args.screenshot:
                page.screenshot(path=args.screenshot)
        finally:
            browser.close()
            server.shutdown()
            rt.close()

    frames = sorted(b["frames"][1:])
    longtasks = b["longtasks"]
    elapsed = args.seconds + 1
    print(f"monitor page /monitor/{FLOW_ID}: {args.rate} events/s for {args.seconds:g} s, embedded relay, headless Chromium")
    print(f"sent {sent} in {took:.2f} s; received by the page {b['events']} ({100 * b['events'] / sent:.1f}%); "
          f"node erp shows in={b['erp']['in']} out={b['erp']['out']}"
          + (" (these events have no stored steps: the /stats baseline the page reloads every 30 s resets the"
             " figures to what is stored)" if args.seconds >= 30 else ""))
    print(f"monitor re-renders: {b['renders']} in {elapsed:g} s ({b['renders'] / elapsed:.1f}/s)")
    print(f"long tasks (> 50 ms): {len(longtasks)}, total {sum(longtasks):.0f} ms, longest {max(longtasks, default=0):.0f} ms")
    if frames:
        p = lambda q: frames[min(len(frames) - 1, int(q * len(frames)))]  # noqa: E731
        print(f"frames: {len(frames)} ({len(frames) / elapsed:.0f}/s); interval ms p50 {statistics.median(frames):.1f}  "
              f"p95 {p(0.95):.1f}  p99 {p(0.99):.1f}  max {frames[-1]:.1f}; frames over 50 ms: "
              f"{sum(1 for f in frames if f > 50)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
