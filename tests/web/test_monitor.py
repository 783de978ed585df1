"""Issue 4, acceptance 2: with the monitor open, orders posted to the webhook make the node counters rise and a
failing HTTP sink turns its node red; the failed run shows the step's input, output and error; its input edited,
a re-run from that step succeeds."""
from __future__ import annotations

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect


class Target:
    """The system the sink posts to: 500 for an order whose ref starts with BAD, 200 otherwise."""

    def __init__(self):
        self.received: list[dict] = []
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                target.received.append(body)
                bad = isinstance(body, dict) and str(body.get("ref", "")).startswith("BAD")
                data = json.dumps({"error": "ERP down for this order"} if bad else {"accepted": True}).encode()
                self.send_response(500 if bad else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/orders"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target():
    t = Target()
    yield t
    t.close()


def flow(flow_id: str, path: str, url: str) -> dict:
    node = lambda id, type, x, config: {"id": id, "type": type, "type_version": 1, "config": config,  # noqa: E731
                                        "position": {"x": x, "y": 120}}
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": "Orders to ERP (monitored)", "nodes": [
        node("intake", "event.webhook", 40, {"path": path}),
        node("shape", "transform.map", 330, {"expression": "{ 'ref': order.number, 'qty': $sum(order.lines.qty) }"}),
        node("erp", "connector.http", 620, {"url": url, "method": "POST", "retry": {"max_attempts": 1, "backoff_s": 0}}),
    ], "edges": [
        {"id": "e1", "source": "intake", "source_port": "out", "target": "shape", "target_port": "in"},
        {"id": "e2", "source": "shape", "source_port": "out", "target": "erp", "target_port": "in"},
    ]}


def post(base: str, path: str, number: str) -> int:
    body = {"order": {"number": number, "lines": [{"sku": "SKU-1", "qty": 2}, {"sku": "SKU-2", "qty": 1}]}}
    req = urllib.request.Request(f"{base}/hooks/default/{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())["run_id"]


def figure(page, node_id: str, name: str) -> int:
    return int(page.get_attribute(f".react-flow__node[data-id='{node_id}'] [data-testid=monitor-strip]", f"data-{name}"))


def test_monitor_counts_rise_a_failing_sink_turns_red_and_a_rerun_from_the_step_succeeds(page, canvas_api, canvas_url, target, out_dir):
    stamp = time.time_ns()
    flow_id, path = f"monitored-{stamp}", f"monitored{stamp}"
    canvas_api.create_flow(flow(flow_id, path, target.url))
    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})

    page.goto(f"{canvas_url}/monitor/{flow_id}")
    page.wait_for_function("window.__crossdockMonitor && window.__crossdockMonitor.ready")
    expect(page.locator("[data-testid=live-state]")).to_have_attribute("data-connected", "true")
    expect(page.locator(".react-flow__node[data-id='erp'] [data-testid=monitor-strip]")).to_have_attribute("data-in", "0")
    page.screenshot(path=str(out_dir / "1-monitor-idle.png"))

    for i in range(3):
        post(canvas_url, path, f"PO-{stamp}-{i}")
    erp = page.locator(".react-flow__node[data-id='erp'] .cd-node")
    expect(page.locator(".react-flow__node[data-id='erp'] [data-testid=monitor-strip]")).to_have_attribute("data-out", "3")
    assert figure(page, "shape", "in") == 3 and figure(page, "shape", "out") == 3 and figure(page, "intake", "out") == 3
    expect(page.locator(".react-flow__edge[data-id='e2'] .react-flow__edge-text")).to_have_text("3")
    expect(erp).to_have_attribute("data-monitor", "ok")
    page.screenshot(path=str(out_dir / "2-counters-rose.png"))

    bad = f"BAD-{stamp}"
    failed_run = post(canvas_url, path, bad)
    expect(erp).to_have_attribute("data-monitor", "failing")
    expect(erp).to_have_class(__import__("re").compile(r"\bmon-failing\b"))
    assert page.evaluate("getComputedStyle(document.querySelector(\".react-flow__node[data-id='erp'] .cd-node\")).borderTopColor") == "rgb(220, 38, 38)"
    assert figure(page, "erp", "failed") == 1 and figure(page, "erp", "in") == 4 and figure(page, "shape", "out") == 4
    page.screenshot(path=str(out_dir / "3-sink-failing.png"))

    # the failed run, from the monitor's latest runs
    row = page.locator(f"[data-testid=recent-runs] li[data-run-id='{failed_run}']")
    expect(row.locator("[data-testid=run-status]")).to_have_text("failed")
    row.locator("a").click()
    expect(page.locator("[data-testid=run-inspector]")).to_have_attribute("data-run-status", "failed")
    detail = page.locator("[data-testid=step-detail]")
    expect(detail).to_have_attribute("data-node-id", "erp")
    step_input = json.loads(page.get_attribute("[data-testid=step-input]", "data-json"))
    assert step_input == {"ref": bad, "qty": 3}
    expect(page.locator("[data-testid=step-input] .json-tree")).to_contain_text(bad)
    expect(page.locator("[data-testid=step-output-pane]")).to_be_visible()
    expect(page.locator("[data-testid=step-error-class]")).not_to_be_empty()
    expect(page.locator("[data-testid=step-error-message]")).to_contain_text("500")
    expect(page.locator(".react-flow__node[data-id='erp'] .cd-node")).to_have_attribute("data-status", "failed")
    expect(page.locator(".react-flow__node[data-id='shape'] .cd-node")).to_have_attribute("data-status", "succeeded")
    page.screenshot(path=str(out_dir / "4-failed-run.png"))

    # edit the step's input and re-run from it
    page.click("[data-testid=edit-rerun]")
    editor = page.locator("[data-testid=rerun-input]")
    assert json.loads(editor.input_value()) == {"ref": bad, "qty": 3}
    fixed = f"FIXED-{stamp}"
    editor.fill(json.dumps({"ref": fixed, "qty": 3}, indent=2))
    page.screenshot(path=str(out_dir / "5-edited-input.png"))
    page.click("[data-testid=rerun-submit]")
    expect(page.locator("[data-testid=replay-of]")).to_have_text(f"#{failed_run}")
    expect(page.locator("[data-testid=run-inspector]")).to_have_attribute("data-run-status", "succeeded")
    expect(page.locator("[data-testid=step-row]")).to_have_count(1)  # it started at the sink
    expect(page.locator("[data-testid=step-row]")).to_have_attribute("data-status", "succeeded")
    assert target.received[-1] == {"ref": fixed, "qty": 3}
    rerun = canvas_api.call("GET", f"/runs?flow_id={flow_id}&limit=1")["runs"][0]
    assert rerun["replay_of"] == failed_run and rerun["start_node"] == "erp" and rerun["trigger"] == "replay"
    page.screenshot(path=str(out_dir / "6-rerun-succeeded.png"))
