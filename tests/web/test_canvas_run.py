"""Running from the editor: a webhook flow has no manual sample, so "Run with sample" replays its last run's input."""
from __future__ import annotations

import json
import time
import urllib.request

from playwright.sync_api import expect


def test_a_webhook_flow_runs_again_with_the_input_of_its_last_run(canvas, page, canvas_api, canvas_url, live_server):
    stamp = time.time_ns()
    flow_id, path = f"hooked-{stamp}", f"hooked{stamp}"
    canvas_api.create_flow({"schema": "crossdock.flow/1", "id": flow_id, "name": "Hooked", "nodes": [
        {"id": "intake", "type": "event.webhook", "type_version": 1, "config": {"path": path}, "position": {"x": 40, "y": 80}},
        {"id": "shape", "type": "transform.map", "type_version": 1, "config": {"expression": "{ 'po': po }"},
         "position": {"x": 320, "y": 80}},
        {"id": "done", "type": "control.discard", "type_version": 1, "config": {"reason": "the run's output"},
         "position": {"x": 600, "y": 80}},
    ], "edges": [{"id": "e1", "source": "intake", "source_port": "out", "target": "shape", "target_port": "in"},
                 {"id": "e2", "source": "shape", "source_port": "out", "target": "done", "target_port": "in"}]})

    canvas.open(flow_id)
    page.click("[data-testid=run]")
    expect(page.locator("[data-testid=notice]")).to_contain_text("Deploy the flow before running it")

    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})
    canvas.open(flow_id)
    page.click("[data-testid=run]")
    expect(page.locator("[data-testid=notice]")).to_contain_text("no manual trigger and no earlier run")

    req = urllib.request.Request(f"{canvas_url}/hooks/default/{path}", data=json.dumps({"po": "4711"}).encode(),
                                 method="POST", headers={"Content-Type": "application/json",
                                                         "X-Crossdock-Key": live_server.hook_key})
    with urllib.request.urlopen(req, timeout=10) as res:
        assert res.status == 202
    for _ in range(100):  # the webhook's run finishes on the embedded worker
        runs = canvas_api.call("GET", f"/runs?flow_id={flow_id}")["runs"]
        if runs and runs[0]["status"] == "succeeded":
            break
        page.wait_for_timeout(100)

    canvas.open(flow_id)  # opening shows the last run's results on the nodes
    expect(canvas.node("shape").locator(".cd-node")).to_have_attribute("data-status", "succeeded")
    page.click("[data-testid=run]")
    expect(page.locator("[data-testid=notice]")).to_contain_text("Run succeeded")
    runs = canvas_api.call("GET", f"/runs?flow_id={flow_id}")["runs"]
    assert len(runs) == 2 and runs[0]["input"] == {"po": "4711"} and runs[0]["trigger"] == "manual"
    canvas.node("shape").click()
    page.click("[data-testid=tab-run]")
    assert json.loads(page.inner_text("[data-testid=step-output]")) == {"po": "4711"}
