"""Editing on the canvas: keyboard shortcuts, copy/paste, undo/redo, reconnect, tidy up, inspector forms, the flow list."""
from __future__ import annotations

import json
import re
import time

from playwright.sync_api import expect


def doc(flow_id: str, nodes: list[dict], edges: list[dict] | None = None, name="Editing") -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": name, "nodes": nodes, "edges": edges or []}


def node(node_id: str, type_: str, x: int, y: int = 80, config: dict | None = None) -> dict:
    return {"id": node_id, "type": type_, "type_version": 1, "config": config or {}, "position": {"x": x, "y": y}}


def edge(eid: str, source: str, target: str, port="out") -> dict:
    return {"id": eid, "source": source, "source_port": port, "target": target, "target_port": "in"}


def three_step_flow(flow_id: str) -> dict:
    return doc(flow_id, [
        node("start", "event.manual", 40, config={"sample": {"n": 1}}),
        node("shape", "transform.map", 300, config={"expression": "{ 'n': n }"}),
        node("keep", "branch.filter", 560, config={"when": "n > 0"}),
    ], [edge("e1", "start", "shape"), edge("e2", "shape", "keep")])


def ids(flow: dict) -> list[str]:
    return [n["id"] for n in flow["nodes"]]


def test_shortcuts_copy_paste_duplicate_delete_undo_redo(canvas, page, canvas_api):
    flow_id = f"keys-{time.time_ns()}"
    canvas_api.create_flow(three_step_flow(flow_id))
    canvas.open(flow_id)

    canvas.node("shape").click()
    canvas.node("keep").click(modifiers=["Control"])  # multi-select
    assert sorted(canvas.selection()) == ["keep", "shape"]
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    flow = canvas.flow()
    assert ids(flow) == ["start", "shape", "keep", "shape_1", "keep_1"]
    pasted = {n["id"]: n for n in flow["nodes"]}
    assert pasted["shape_1"]["position"] == {"x": 340, "y": 120}  # offset from the copy, not on top of it
    assert pasted["shape_1"]["config"] == {"expression": "{ 'n': n }"}
    # the edge between the copied nodes comes along, renamed; the edge from outside does not
    assert [(e["source"], e["target"]) for e in flow["edges"]][-1] == ("shape_1", "keep_1")
    assert len(flow["edges"]) == 3
    assert sorted(canvas.selection()) == ["keep_1", "shape_1"]

    page.keyboard.press("Delete")
    assert ids(canvas.flow()) == ["start", "shape", "keep"] and len(canvas.flow()["edges"]) == 2
    page.keyboard.press("Control+z")
    assert ids(canvas.flow()) == ["start", "shape", "keep", "shape_1", "keep_1"]
    page.keyboard.press("Control+z")
    assert ids(canvas.flow()) == ["start", "shape", "keep"]
    page.keyboard.press("Control+y")
    assert len(canvas.flow()["nodes"]) == 5
    page.click("[data-testid=undo]")
    assert len(canvas.flow()["nodes"]) == 3

    canvas.node("start").click()
    page.keyboard.press("Control+d")
    assert ids(canvas.flow())[-1] == "start_1" and canvas.selection() == ["start_1"]
    page.keyboard.press("Control+a")
    assert len(canvas.selection()) == 4
    page.keyboard.press("Escape")
    assert canvas.selection() == []

    # Deleting a selected edge, then undoing it.
    page.locator(".react-flow__edge[data-id='e2'] .react-flow__edge-interaction").click(force=True)
    page.keyboard.press("Delete")
    assert [e["id"] for e in canvas.flow()["edges"]] == ["e1"]
    page.keyboard.press("Control+z")
    assert [e["id"] for e in canvas.flow()["edges"]] == ["e1", "e2"]
    canvas.shot("after-edits")


def test_drag_moves_a_node_as_one_undo_step_and_tidy_up_lays_out_left_to_right(canvas, page, canvas_api):
    flow_id = f"move-{time.time_ns()}"
    flow = three_step_flow(flow_id)
    flow["nodes"][2]["position"] = {"x": 40, "y": 400}  # out of order: keep sits under start
    canvas_api.create_flow(flow)
    canvas.open(flow_id)

    box = canvas.node("shape").bounding_box()
    zoom = page.evaluate("new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a")
    page.mouse.move(box["x"] + 60, box["y"] + 12)
    page.mouse.down()
    page.mouse.move(box["x"] + 100, box["y"] + 40, steps=4)
    page.mouse.move(box["x"] + 160, box["y"] + 112, steps=6)
    page.mouse.up()
    moved = {n["id"]: n["position"] for n in canvas.flow()["nodes"]}["shape"]
    assert abs(moved["x"] - (300 + 100 / zoom)) <= 24 / zoom and abs(moved["y"] - (80 + 100 / zoom)) <= 24 / zoom
    page.keyboard.press("Control+z")
    assert {n["id"]: n["position"] for n in canvas.flow()["nodes"]}["shape"] == {"x": 300, "y": 80}

    page.click("[data-testid=tidy]")
    page.wait_for_function("(() => { const n = window.__crossdock.getFlow().nodes; return n[2].position.x > n[1].position.x; })()")
    pos = {n["id"]: n["position"] for n in canvas.flow()["nodes"]}
    assert pos["start"]["x"] < pos["shape"]["x"] < pos["keep"]["x"]
    assert abs(pos["start"]["y"] - pos["keep"]["y"]) < 40  # one row, in wiring order
    page.wait_for_timeout(300)
    canvas.shot("tidy")


def test_inspector_builds_its_form_from_the_config_schema(canvas, page, canvas_api):
    flow_id = f"form-{time.time_ns()}"
    canvas_api.create_flow(doc(flow_id, [
        node("start", "event.manual", 40, config={"sample": {"n": 1}}),
        node("call", "connector.http", 300, config={"url": "http://127.0.0.1:9/x"}),
        node("shape", "transform.map", 560, config={"expression": "$"}),
    ], [edge("e1", "start", "call"), edge("e2", "call", "shape")]))
    canvas.open(flow_id)
    canvas.node("call").click()
    form = page.locator("[data-testid=config-form]")

    headers = form.locator("[data-testid='field-headers']")  # a string map: rows of name and value
    headers.get_by_role("button", name="+ Add").click()
    headers.locator(".kv-row input").nth(0).fill("X-Source")
    headers.locator(".kv-row input").nth(1).fill("crossdock")
    form.locator("[data-testid='field-method']").select_option(label="PUT")
    form.locator("[data-testid='field-timeout_s']").fill("12")
    form.locator("[data-testid='field-auth.type']").select_option(label="bearer")
    token = form.locator("[data-testid='field-auth.token']")
    expect(token).to_have_attribute("type", "password")  # secrets are masked
    token.fill("s3cret")
    config = {n["id"]: n for n in canvas.flow()["nodes"]}["call"]["config"]
    assert config["method"] == "PUT" and config["timeout_s"] == 12
    assert config["auth"]["type"] == "bearer" and config["auth"]["token"] == "s3cret"
    assert config["headers"] == {"X-Source": "crossdock"}
    expect(page.locator("[data-testid=inspector]")).not_to_contain_text("s3cret")

    page.fill("[data-testid=node-notes]", "Pushes the order to the ERP")
    expect(canvas.node("call").locator(".cd-node-notes")).to_have_text("Pushes the order to the ERP")
    canvas.shot("http-form")

    page.keyboard.press("Escape")
    page.click(".react-flow__pane", position={"x": 600, "y": 500})
    page.keyboard.press("Control+z")  # undo works for inspector edits too, one step per field
    assert {n["id"]: n for n in canvas.flow()["nodes"]}["call"]["notes"] == ""

    # booleans are checkboxes, showing the schema default until set
    canvas.node("shape").click()
    allow_empty = page.locator("[data-testid=config-form] [data-testid='field-allow_empty']")
    expect(allow_empty).to_be_checked()
    allow_empty.uncheck()
    assert {n["id"]: n for n in canvas.flow()["nodes"]}["shape"]["config"] == {"expression": "$", "allow_empty": False}


def test_flow_list_duplicate_export_import_delete(canvas, page, canvas_api, canvas_url, out_dir):
    flow_id = f"listed-{time.time_ns()}"
    canvas_api.create_flow(three_step_flow(flow_id) | {"name": "Listed flow"})
    page.goto(canvas_url + "/flows")
    row = page.locator(f"tr[data-flow-id='{flow_id}']")
    expect(row).to_contain_text("Listed flow")
    expect(row.locator("td.num")).to_have_text("3")

    row.get_by_role("button", name="Duplicate").click()
    copy = page.locator(f"tr[data-flow-id='{flow_id}-copy']")
    expect(copy).to_contain_text("Listed flow (copy)")

    with page.expect_download() as download:
        row.get_by_role("button", name="Export").click()
    exported = out_dir / "exported.json"
    download.value.save_as(exported)
    data = json.loads(exported.read_text())
    assert data["id"] == flow_id and ids(data) == ["start", "shape", "keep"]

    page.once("dialog", lambda d: d.accept())
    copy.get_by_role("button", name="Delete").click()
    expect(copy).to_have_count(0)
    try:
        canvas_api.call("GET", f"/flows/{flow_id}-copy")
        raise AssertionError("the deleted flow is still there")
    except Exception as err:  # urllib raises HTTPError 404
        assert "404" in str(err)

    # Importing the exported file under an id that is taken gives it a fresh id and opens it.
    page.set_input_files("[data-testid=import-file]", str(exported))
    canvas.wait_ready()
    assert page.url.endswith(f"/flows/{flow_id}-2")
    assert ids(canvas.flow()) == ["start", "shape", "keep"]
    canvas.shot("imported")


def test_an_edge_problem_is_marked_on_the_edge_and_reconnecting_fixes_it(canvas, page, canvas_api):
    flow_id = f"edges-{time.time_ns()}"
    flow = three_step_flow(flow_id)
    flow["edges"][1]["source_port"] = "nope"  # shape has no such output
    canvas_api.create_flow(flow)
    canvas.open(flow_id)

    bad = page.locator(".react-flow__edge[data-id='e2']")
    expect(bad).to_have_class(re.compile(r"\bedge-problem\b"))
    expect(bad).to_contain_text("no port “nope”")
    problem = page.locator("[data-testid=problems] li[data-edge=e2][data-code=unknown_port]")
    problem.click()
    expect(bad).to_have_class(re.compile(r"\bselected\b"))
    canvas.shot("edge-problem")

    # Drag the edge's source end from the bad port onto shape's real "out" port.
    end = page.locator(".react-flow__edge[data-id='e2'] .react-flow__edgeupdater-source").bounding_box()
    out = canvas.node("shape").locator(".react-flow__handle.source[data-handleid='out']").bounding_box()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + 20, end["y"] + 30, steps=4)
    page.mouse.move(out["x"] + out["width"] / 2, out["y"] + out["height"] / 2, steps=6)
    page.mouse.up()
    assert [(e["id"], e["source"], e["source_port"]) for e in canvas.flow()["edges"]] == [("e1", "start", "out"), ("e2", "shape", "out")]
    expect(problem).to_have_count(0)
    expect(bad).not_to_have_class(re.compile(r"\bedge-problem\b"))

    # Dropping an edge end on empty canvas removes the edge.
    end = page.locator(".react-flow__edge[data-id='e2'] .react-flow__edgeupdater-target").bounding_box()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + 30, end["y"] + 150, steps=8)
    page.mouse.up()
    assert [e["id"] for e in canvas.flow()["edges"]] == ["e1"]


def test_zoom_controls_minimap_and_palette_search(canvas, page, canvas_api):
    flow_id = f"zoom-{time.time_ns()}"
    canvas_api.create_flow(three_step_flow(flow_id))
    canvas.open(flow_id)
    zoom = "new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a"
    before = page.evaluate(zoom)
    page.click(".react-flow__controls-zoomin")
    page.wait_for_timeout(400)
    assert page.evaluate(zoom) > before
    page.click("[data-testid=fit-view]")
    page.wait_for_timeout(400)
    assert abs(page.evaluate(zoom) - before) < 0.01  # the flow opened fitted
    expect(page.locator(".react-flow__minimap .react-flow__minimap-node")).to_have_count(3)

    # double-click opens a node for editing, as in Node-RED
    canvas.node("shape").dblclick()
    expect(page.locator("[data-testid=node-name]")).to_be_focused()
    expect(page.locator("[data-testid=node-name]")).to_have_value("shape")

    # the palette filters as you type
    page.fill("[data-testid=palette-search]", "choi")
    expect(page.locator(".palette-item")).to_have_count(1)
    expect(page.locator(".palette-item")).to_have_attribute("data-type", "branch.choice")
    page.locator(".palette-item").focus()
    page.keyboard.press("Enter")  # the palette works from the keyboard too
    assert [n["type"] for n in canvas.flow()["nodes"]][-1] == "branch.choice"
    assert canvas.selection() == [canvas.flow()["nodes"][-1]["id"]]

