"""Running from the editor: "Run with sample" asks which sample (issue 13: never the last input quietly); a webhook
flow has no manual sample, so the user picks its last run's input or types a message."""
from __future__ import annotations

import json
import time
import urllib.request

from playwright.sync_api import expect

from support.browser import run_with_sample


def test_a_webhook_flow_runs_again_with_the_input_of_its_last_run_when_the_user_picks_it(canvas, page, canvas_api, canvas_url, live_server):
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
    run_with_sample(page, "pasted", message={"po": "1"})
    expect(page.locator("[data-testid=notice]")).to_contain_text("Deploy the flow before running it")

    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})
    canvas.open(flow_id)
    page.click("[data-testid=run]")  # no manual trigger, no earlier run: only a typed message
    expect(page.locator("[data-testid=run-source-trigger]")).to_be_disabled()
    expect(page.locator("[data-testid=run-source-last]")).to_be_disabled()
    expect(page.locator("[data-testid=run-go]")).to_be_disabled()  # nothing is chosen for the user
    page.keyboard.press("Escape")

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
    run_with_sample(page, "last")
    expect(page.locator("[data-testid=notice]")).to_contain_text("Run succeeded")
    runs = canvas_api.call("GET", f"/runs?flow_id={flow_id}")["runs"]
    assert len(runs) == 2 and runs[0]["input"] == {"po": "4711"} and runs[0]["trigger"] == "manual"
    canvas.node("shape").click()
    page.click("[data-testid=tab-run]")
    assert json.loads(page.inner_text("[data-testid=step-output]")) == {"po": "4711"}
