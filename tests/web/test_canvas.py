"""The designer journey in a real browser: palette to canvas, wiring, mapping preview, validation, save, deploy, run."""
from __future__ import annotations

import json
import time

from playwright.sync_api import expect

from support.browser import run_with_sample

ORDER = {"order": {"number": "SO-1001", "lines": [{"sku": "A-1", "qty": 3, "price": 400}, {"sku": "B-2", "qty": 1, "price": 150}]}}
MAPPING = "{ 'number': order.number, 'total': $sum(order.lines.(qty * price)) }"


def test_build_save_deploy_and_run_a_flow_from_the_palette(canvas, page, canvas_url):
    name = f"Order release {time.time_ns()}"
    page.goto(canvas_url + "/")
    page.fill("[data-testid=new-flow-name]", name)
    page.click("[data-testid=create-flow]")
    canvas.wait_ready()
    flow_id = canvas.flow()["id"]

    # Drag node types (a second map as the routes' target, a discard to end the flow) from the palette.
    pane = page.locator(".react-flow__pane")
    origin = pane.bounding_box()
    drops = [("event.manual", 100, 140), ("transform.map", 330, 140), ("branch.choice", 560, 140), ("transform.map", 560, 330),
             ("control.discard", 560, 480)]
    for type_, x, y in drops:
        page.locator(f".palette-item[data-type='{type_}']").drag_to(pane, target_position={"x": x, "y": y})
    nodes = canvas.flow()["nodes"]
    assert [n["type"] for n in nodes] == [d[0] for d in drops]
    ids = [n["id"] for n in nodes]
    assert ids == ["manual_1", "map_1", "choice_1", "map_2", "discard_1"]
    # A new flow opens at zoom 1 with the origin top-left; a node lands under the pointer (a drag threshold's worth of slack).
    vp = page.evaluate("(() => { const t = getComputedStyle(document.querySelector('.react-flow__viewport')).transform; return t; })()")
    assert vp in ("none", "matrix(1, 0, 0, 1, 0, 0)")
    for n, (_, x, y) in zip(nodes, drops):
        assert abs(n["position"]["x"] - (x - 90)) <= 24 and abs(n["position"]["y"] - (y - 20)) <= 24, (n, x, y, origin)
    # Handles are drawn from the SPEC's named ports; nodes with several outputs label them.
    expect(canvas.node("map_1").locator(".port-row[data-port=out] .port-label")).to_have_text("out")
    expect(canvas.node("map_1").locator(".port-row[data-port=error] .port-label")).to_have_text("error")
    expect(canvas.node("choice_1").locator(".react-flow__handle.source")).to_have_count(2)  # otherwise, error
    expect(canvas.node("discard_1").locator(".react-flow__handle.source")).to_have_count(0)  # an end: no outputs

    canvas.wire("manual_1", "out", "map_1")
    canvas.wire("map_1", "out", "choice_1")
    edges = [(e["source"], e["source_port"], e["target"], e["target_port"]) for e in canvas.flow()["edges"]]
    assert edges == [("manual_1", "out", "map_1", "in"), ("map_1", "out", "choice_1", "in")]

    # The manual trigger's sample, then the mapping with a live preview for that order.
    canvas.node("manual_1").click()
    page.fill("[data-testid='field-sample']", json.dumps(ORDER))
    canvas.node("map_1").click()
    canvas.type_expression("expression", MAPPING[:-1])
    expect(page.locator("[data-testid=expr-error]")).to_contain_text("Expected }")
    expect(page.locator("[data-testid='editor-expression'] .cm-lintRange-error")).to_have_count(1)
    canvas.shot("mapping-error")
    page.keyboard.type("}")
    expect(page.locator("[data-testid=preview-output]")).to_have_text(json.dumps({"number": "SO-1001", "total": 1350}, indent=2))
    expect(page.locator("[data-testid=preview-engine]")).to_have_text("compiled")  # the inspector names the engine
    expect(page.locator("[data-testid='editor-expression'] .cm-lintRange-error")).to_have_count(0)
    canvas.shot("mapping-preview")

    # A rule adds a named output port; left unwired it is a problem marked on the node and its port.
    canvas.node("choice_1").click()
    page.click("[data-testid='add-rules']")
    page.fill("[data-testid='field-rules[0].port']", "big")
    canvas.type_expression("rules[0].when", "total > 1000")
    big = canvas.node("choice_1").locator(".port-row[data-port=big]")
    expect(big.locator(".port-label")).to_have_text("big")
    expect(big).to_have_class("port-row port-problem")
    expect(page.locator("[data-testid=problems] li[data-code=unwired_route][data-node=choice_1]")).to_have_count(2)
    expect(canvas.node("choice_1").locator("[data-testid=problem-badge]")).to_be_visible()
    canvas.shot("unwired-route")

    canvas.wire("choice_1", "big", "map_2")
    canvas.wire("choice_1", "otherwise", "map_2")
    canvas.node("map_2").click()
    canvas.type_expression("expression", "$")
    # the last mapping's output must end somewhere the flow says: an explicit discard, with its reason
    expect(page.locator("[data-testid=problems] li[data-code=unwired_route][data-node=map_2]")).to_have_count(1)
    canvas.wire("map_2", "out", "discard_1")
    canvas.node("discard_1").click()
    page.fill("[data-testid='field-reason']", "the run's output is the order")
    expect(page.locator("[data-testid=error-count]")).to_have_text("0 errors")
    expect(page.locator("[data-testid=problems] li[data-code=unwired_route]")).to_have_count(0)
    expect(canvas.node("choice_1").locator("[data-testid=problem-badge]")).to_have_count(0)
    assert not canvas.problems()

    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    expect(page.locator("[data-testid=save-state]")).to_have_text("Saved · rev 2")
    saved = canvas.flow()

    page.reload()
    canvas.wait_ready()
    again = canvas.flow()
    assert again["name"] == name and again["id"] == flow_id
    # the server fills defaults (empty notes); everything the designer drew comes back as drawn
    assert again["nodes"] == [{"notes": "", **n} for n in saved["nodes"]]
    assert again["edges"] == saved["edges"]

    page.click("[data-testid=deploy]")
    expect(page.locator("[data-testid=deployed]")).to_have_text("deployed v1")
    run_with_sample(page, "trigger")  # the flow writes nowhere: a real run, no confirmation asked
    for node_id in ids:
        expect(canvas.node(node_id).locator(".cd-node")).to_have_attribute("data-status", "succeeded", timeout=20_000)
    canvas.node("map_1").click()
    page.click("[data-testid=tab-run]")
    assert json.loads(page.inner_text("[data-testid=step-output]")) == {"number": "SO-1001", "total": 1350}
    canvas.shot("run-succeeded")

    # The preview can take its sample from the step input of that run.
    page.get_by_role("button", name="Configure").click()
    page.fill("[data-testid=sample-input]", "{}")
    page.get_by_role("button", name="From last run").click()
    assert json.loads(page.input_value("[data-testid=sample-input]")) == ORDER
    expect(page.locator("[data-testid=preview-output]")).to_have_text(json.dumps({"number": "SO-1001", "total": 1350}, indent=2))
