"""Issue 13, the version diff in the editor: after editing one target field of a mapping and moving a node, the
"Changes" panel lists the move and that mapping field (and no other) against the deployed version; picking two
versions compares those."""
from __future__ import annotations

import time

from playwright.sync_api import expect


def flow_doc(flow_id: str) -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": "Diffed", "nodes": [
        {"id": "start", "type": "event.manual", "type_version": 1, "config": {"sample": {"n": 1, "sku": "a"}},
         "position": {"x": 40, "y": 80}},
        {"id": "shape", "type": "transform.map", "type_version": 1,
         "config": {"expression": "{ 'Qty': n, 'Item': sku }"}, "position": {"x": 300, "y": 80}},
        {"id": "done", "type": "control.discard", "type_version": 1, "config": {"reason": "the test reads the run"},
         "position": {"x": 560, "y": 80}}],
        "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "shape", "target_port": "in"},
                  {"id": "e2", "source": "shape", "source_port": "out", "target": "done", "target_port": "in"}]}


def test_changes_panel_shows_the_moved_node_and_the_edited_mapping_field(canvas, page, canvas_api):
    flow_id = f"diff-{time.time_ns()}"
    canvas_api.create_flow(flow_doc(flow_id))
    assert canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})["version"] == 1
    canvas.open(flow_id)

    canvas.node("shape").click()
    canvas.type_expression("expression", "{ 'Qty': n, 'Item': $uppercase(sku) }")
    box = canvas.node("done").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 12)
    page.mouse.down()
    page.mouse.move(box["x"] + 80, box["y"] + 60, steps=4)
    page.mouse.move(box["x"] + 120, box["y"] + 160, steps=6)
    page.mouse.up()
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=save-state]")).to_contain_text("Saved")

    page.click("[data-testid=changes]")
    panel = page.locator("[data-testid=version-diff]")
    expect(panel.locator("[data-testid=diff-node-moved]")).to_have_count(1)
    expect(panel.locator("[data-testid=diff-node-moved]")).to_have_attribute("data-node-id", "done")
    mapping = panel.locator("[data-testid=diff-mapping]")
    expect(mapping).to_have_count(1)
    expect(mapping).to_have_attribute("data-target", "Item")
    expect(mapping).to_contain_text("sku")
    expect(mapping).to_contain_text("$uppercase(sku)")
    expect(panel.locator("[data-testid=diff-field]")).to_have_count(0)
    canvas.shot("changes")

    # two versions picked: deploy the draft as v2, then v1 against v2 shows the same, the draft against v2 nothing
    panel.locator("button[aria-label=Close]").click()
    assert canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})["version"] == 2
    page.click("[data-testid=changes]")
    expect(panel.locator("[data-testid=diff-empty]")).to_be_visible()
    panel.locator("[data-testid=diff-from]").select_option("1")
    panel.locator("[data-testid=diff-to]").select_option("2")
    expect(panel.locator("[data-testid=diff-mapping]")).to_have_attribute("data-target", "Item")
    expect(panel.locator("[data-testid=diff-node-moved]")).to_have_count(1)



def test_escape_closes_the_topmost_dialog_and_leaves_the_canvas_keys_alone(canvas, page, canvas_api):
    """Escape did not close the Changes dialog while a node was selected: the editor's own Escape (clear the
    selection) re-rendered the editor first and the dialog's listener missed the key. Escape closes the topmost
    dialog only (Changes over the mapper, then the mapper), and with no dialog open it still clears the selection."""
    flow_id = f"diff-esc-{time.time_ns()}"
    canvas_api.create_flow(flow_doc(flow_id))
    canvas.open(flow_id)
    panel = page.locator("[data-testid=version-diff]")
    inspector = page.locator("[data-testid=inspector] [data-testid=expr-expression]")

    canvas.node("shape").click()
    expect(inspector).to_be_visible()
    page.click("[data-testid=changes]")
    expect(panel).to_be_visible()
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    expect(inspector).to_be_visible()  # the dialog took the key: the selection stays

    page.click("[data-testid=changes]")  # the focus on a control inside the dialog
    panel.locator("[data-testid=diff-from]").focus()
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)

    page.click("[data-testid=open-mapper-expression]")
    mapper = page.locator("[data-testid=mapper]")
    expect(mapper).to_be_visible()
    page.click("[data-testid=changes]")  # the toolbar stays above the mapper
    expect(panel).to_be_visible()
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    expect(mapper).to_be_visible()
    page.keyboard.press("Escape")
    expect(mapper).to_have_count(0)
    expect(inspector).to_be_visible()

    page.keyboard.press("Escape")  # no dialog open: the canvas's own Escape clears the selection
    expect(inspector).to_have_count(0)
