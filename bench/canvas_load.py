"""Opens a generated flow of 1,000 nodes and 1,200 edges in headless Chromium and prints how long the canvas
takes from navigation until it is interactive (the nodes in view drawn and measured, all 1,000 held), median
of 3 cold loads; then how long "fit view" takes to draw every node.

Starts its own embedded Crossdock (SQLite in a temporary folder) on 127.0.0.1; run: python bench/canvas_load.py
"""
from __future__ import annotations

import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
import logging  # noqa: E402

from werkzeug.serving import make_server  # noqa: E402

from runtime.wiring import Runtime  # noqa: E402
from runtime.settings import Settings  # noqa: E402
from web import canvas  # noqa: E402
from web.app import create_app  # noqa: E402

NODES, EDGES, COLUMNS, RUNS = 1000, 1200, 20, 3
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def generated_flow(rng: random.Random) -> dict:
    """Columns of nodes: triggers first, then maps and filters, each fed from the column before."""
    rows = NODES // COLUMNS
    nodes, edges, wired = [], [], set()
    for c in range(COLUMNS):
        for r in range(rows):
            nid = f"n{c}_{r}"
            if c == 0:
                node = {"id": nid, "type": "event.manual", "config": {"sample": {"order": {"number": f"SO-{r}"}}}}
            elif (c + r) % 3:
                # every expression differs, as in a real flow: a cache by source text would not hide the cost
                node = {"id": nid, "type": "transform.map", "config": {"expression": f"{{ 'order': order, 'step': {c * rows + r} }}"}}
            else:
                node = {"id": nid, "type": "branch.filter", "config": {"when": f"order.number != 'X-{c * rows + r}'"}}
            node.update(type_version=1, name=f"Step {c}.{r}", position={"x": c * 260, "y": r * 130})
            nodes.append(node)
    def add(src: str, dst: str) -> None:
        if (src, dst) not in wired:
            wired.add((src, dst))
            edges.append({"id": f"e{len(edges) + 1}", "source": src, "source_port": "out", "target": dst, "target_port": "in"})
    for c in range(1, COLUMNS):
        for r in range(rows):
            add(f"n{c - 1}_{r}", f"n{c}_{r}")
    while len(edges) < EDGES:
        c = rng.randrange(1, COLUMNS)
        add(f"n{c - 1}_{rng.randrange(rows)}", f"n{c}_{rng.randrange(rows)}")
    return {"schema": "crossdock.flow/1", "id": "bench-1000", "name": "Bench: 1,000 nodes", "nodes": nodes, "edges": edges}


def post(base: str, path: str, body: dict, headers: dict) -> dict:
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(req, timeout=60) as res:
        return json.loads(res.read())


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    data = tempfile.mkdtemp(prefix="crossdock-bench-")
    runtime = Runtime(Settings(data_dir=data, load_samples=False))
    email, password, key = harness.admin_and_key(runtime)
    app = create_app(runtime)
    if "canvas" not in app.blueprints:
        app.register_blueprint(canvas.bp)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        flow = generated_flow(random.Random(7))
        post(base, "/api/v1/flows", flow, key)
        times, fits, gets, after = [], [], [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            for _ in range(RUNS):
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                page = context.new_page()
                harness.log_in(page, base, email, password)
                page.goto(f"{base}/flows/{flow['id']}")
                page.wait_for_function("window.__crossdock && window.__crossdock.ready", timeout=60_000)
                held = page.evaluate("window.__crossdock.getFlow().nodes.length")
                drawn = page.evaluate("document.querySelectorAll('.react-flow__node').length")
                assert held == NODES and 0 < drawn < NODES, (held, drawn)
                times.append(page.evaluate("window.__crossdock.readyAt"))
                get_start, get_end = page.evaluate(
                    "(() => { const e = performance.getEntriesByType('resource').find(r => /api\\/v1\\/flows\\/[^/?]+$/.test(r.name));"
                    " return [e.startTime, e.responseEnd]; })()")
                gets.append(get_end - get_start)
                after.append(times[-1] - get_end)
                # then the whole flow at once: "fit view" draws every node
                started = page.evaluate("performance.now()")
                page.click("[data-testid=fit-view]")
                page.wait_for_function(
                    f"document.querySelectorAll('.react-flow__node').length === {NODES} && "
                    "!document.querySelector('.react-flow__node[style*=\"visibility: hidden\"]')", timeout=60_000)
                page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                fits.append(page.evaluate("performance.now()") - started)
                context.close()
            browser.close()
        print(f"canvas_load: {NODES} nodes, {len(flow['edges'])} edges; navigation to interactive "
              f"runs {', '.join(f'{t:.0f}' for t in times)} ms; median {statistics.median(times) / 1000:.2f} s "
              f"({drawn} nodes in view drawn)")
        print(f"canvas_load: of which the API's GET of the flow (server side, with validation) median "
              f"{statistics.median(gets):.0f} ms; the browser from that response to interactive median "
              f"{statistics.median(after):.0f} ms")
        print(f"canvas_load: fit view drawing all {NODES} nodes: median {statistics.median(fits) / 1000:.2f} s")
    finally:
        server.shutdown()
        runtime.close()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
