"""Issue 4, acceptance 2: with the monitor open, orders posted to the webhook make the node counters rise and a
failing HTTP sink turns its node red; the failed run shows the step's input, output and error; its input edited,
a re-run from that step succeeds."""
from __future__ import annotations

import json
import re
import time

from playwright.sync_api import expect


def figure(page, node_id: str, name: str) -> int:
    return int(page.get_attribute(f".react-flow__node[data-id='{node_id}'] [data-testid=monitor-strip]", f"data-{name}"))


def test_monitor_counts_rise_a_failing_sink_turns_red_and_a_rerun_from_the_step_succeeds(page, canvas_api, canvas_url, order_target, order_flow, post_order, out_dir):
    stamp = time.time_ns()
    flow_id, path = f"monitored-{stamp}", f"monitored{stamp}"
    canvas_api.create_flow(order_flow(flow_id, path, order_target.url))
    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})

    page.goto(f"{canvas_url}/flows/{flow_id}")  # monitor mode is one click from the editor
    page.wait_for_function("window.__crossdock && window.__crossdock.ready")
    page.click("[data-testid=monitor]")
    page.wait_for_url(f"**/monitor/{flow_id}")
    page.wait_for_function("window.__crossdockMonitor && window.__crossdockMonitor.ready")
    expect(page.locator("[data-testid=live-state]")).to_have_attribute("data-connected", "true")
    expect(page.locator(".react-flow__node[data-id='erp'] [data-testid=monitor-strip]")).to_have_attribute("data-in", "0")
    page.screenshot(path=str(out_dir / "1-monitor-idle.png"))

    for i in range(3):
        post_order(canvas_url, path, f"PO-{stamp}-{i}")
    erp = page.locator(".react-flow__node[data-id='erp'] .cd-node")
    expect(page.locator(".react-flow__node[data-id='erp'] [data-testid=monitor-strip]")).to_have_attribute("data-out", "3")
    assert figure(page, "shape", "in") == 3 and figure(page, "shape", "out") == 3 and figure(page, "intake", "out") == 3
    expect(page.locator(".react-flow__edge[data-id='e2'] .react-flow__edge-text")).to_have_text("3")
    expect(erp).to_have_attribute("data-monitor", "ok")
    page.screenshot(path=str(out_dir / "2-counters-rose.png"))

    bad = f"BAD-{stamp}"
    failed_run = post_order(canvas_url, path, bad)
    expect(erp).to_have_attribute("data-monitor", "failing")
    expect(erp).to_have_class(re.compile(r"\bmon-failing\b"))
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
    assert order_target.received[-1] == {"ref": fixed, "qty": 3}
    rerun = canvas_api.call("GET", f"/runs?flow_id={flow_id}&limit=1")["runs"][0]
    assert rerun["replay_of"] == failed_run and rerun["start_node"] == "erp" and rerun["trigger"] == "replay"
    page.screenshot(path=str(out_dir / "6-rerun-succeeded.png"))


def test_a_step_in_flight_pulses_and_its_time_counts_when_it_ends(page, canvas_api, canvas_url, order_target, order_flow, post_order, out_dir):
    stamp = time.time_ns()
    flow_id, path = f"pulsing-{stamp}", f"pulsing{stamp}"
    canvas_api.create_flow(order_flow(flow_id, path, order_target.url))
    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})
    page.goto(f"{canvas_url}/monitor/{flow_id}")
    page.wait_for_function("window.__crossdockMonitor && window.__crossdockMonitor.ready")
    expect(page.locator("[data-testid=live-state]")).to_have_attribute("data-connected", "true")

    post_order(canvas_url, path, f"HOLD-{stamp}")  # the target answers when the test says so
    erp = page.locator(".react-flow__node[data-id='erp'] .cd-node")
    expect(erp).to_have_attribute("data-monitor", "running")
    expect(erp).to_have_class(re.compile(r"\bmon-running\b"))
    assert figure(page, "erp", "in") == 1 and figure(page, "erp", "out") == 0
    expect(page.locator("[data-testid=runs-running]")).to_contain_text("1")
    page.screenshot(path=str(out_dir / "1-in-flight.png"))

    order_target.release.set()
    expect(erp).to_have_attribute("data-monitor", "ok")
    assert figure(page, "erp", "out") == 1
    expect(page.locator("[data-testid=runs-succeeded]")).to_contain_text("1")
    expect(page.locator("[data-testid=runs-running]")).to_contain_text("0")
    # the figures of the selected node, in the side panel
    page.locator(".react-flow__node[data-id='erp']").click()
    figures = page.locator("[data-testid=node-figures]")
    expect(figures).to_contain_text("Succeeded1")
    assert "–" not in figures.locator("tr", has_text="p95").inner_text()
    page.screenshot(path=str(out_dir / "2-ended.png"))


def test_the_monitor_counts_one_version_and_follows_a_redeploy_without_a_reload(page, canvas_api, canvas_url, order_target, order_flow, post_order, out_dir):
    """Issue 14: the figures are the deployed version's, and a redeploy while the page is open switches it to the
    new version's graph and counts (the flow.deployed live event), without a reload."""
    stamp = time.time_ns()
    flow_id, path = f"redeployed-{stamp}", f"redeployed{stamp}"
    v1 = order_flow(flow_id, path, order_target.url)
    canvas_api.create_flow(v1)
    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})
    page.goto(f"{canvas_url}/monitor/{flow_id}")
    page.wait_for_function("window.__crossdockMonitor && window.__crossdockMonitor.ready")
    expect(page.locator("[data-testid=live-state]")).to_have_attribute("data-connected", "true")
    expect(page.locator("[data-testid=monitor-version]")).to_have_attribute("data-version", "1")
    post_order(canvas_url, path, f"PO-{stamp}-1")
    expect(page.locator(".react-flow__node[data-id='erp'] [data-testid=monitor-strip]")).to_have_attribute("data-out", "1")
    expect(page.locator("[data-testid=recent-runs] [data-testid=recent-version]").first).to_have_text("v1")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    page.screenshot(path=str(out_dir / "1-version-1.png"))

    # version 2 adds a node between the map and the sink; deployed through the API while the page is open
    v2 = json.loads(json.dumps(v1))
    v2["nodes"].insert(2, {"id": "stamp", "type": "transform.map", "type_version": 1, "name": "Stamp the order",
                           "config": {"expression": "$merge([$, {'checked': true}])"}, "position": {"x": 620, "y": 320}})
    v2["nodes"][3]["position"] = {"x": 910, "y": 120}
    v2["edges"] = [v2["edges"][0], {**v2["edges"][1], "target": "stamp"},
                   {"id": "e3", "source": "stamp", "source_port": "out", "target": "erp", "target_port": "in"}]
    canvas_api.call("PUT", f"/flows/{flow_id}", v2)
    assert canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})["version"] == 2

    expect(page.locator(".react-flow__node[data-id='stamp']")).to_be_visible()
    expect(page.locator(".react-flow__node[data-id='stamp']")).to_contain_text("Stamp the order")
    expect(page.locator("[data-testid=monitor-version]")).to_have_attribute("data-version", "2")
    expect(page.locator("[data-testid=monitor-version]")).to_have_text("deployed v2")
    expect(page.locator("[data-testid=figures-version]")).to_contain_text("v2")
    # version 2's counts start from its own runs: version 1's order is not among them
    expect(page.locator(".react-flow__node[data-id='erp'] [data-testid=monitor-strip]")).to_have_attribute("data-in", "0")
    post_order(canvas_url, path, f"PO-{stamp}-2")
    expect(page.locator(".react-flow__node[data-id='erp'] [data-testid=monitor-strip]")).to_have_attribute("data-out", "1")
    assert figure(page, "stamp", "out") == 1 and figure(page, "intake", "out") == 1
    expect(page.locator("[data-testid=runs-succeeded]")).to_contain_text("1")
    assert order_target.received[-1] == {"ref": f"PO-{stamp}-2", "qty": 3, "checked": True}
    assert page.evaluate("window.__sameDocument === true")  # no reload
    page.screenshot(path=str(out_dir / "2-followed-version-2.png"))

    # version 1 stays selectable: its graph and its own count
    page.select_option("[data-testid=version-pick]", "1")
    expect(page.locator("[data-testid=monitor-version]")).to_have_attribute("data-version", "1")
    expect(page.locator(".react-flow__node[data-id='stamp']")).to_have_count(0)
    expect(page.locator(".react-flow__node[data-id='erp'] [data-testid=monitor-strip]")).to_have_attribute("data-out", "1")
    assert figure(page, "intake", "in") == 1
    page.screenshot(path=str(out_dir / "3-version-1-picked.png"))
