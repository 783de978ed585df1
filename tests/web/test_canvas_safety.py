"""Names, notes and config values are text on the canvas, never HTML; the editor refuses unsafe moves."""
from __future__ import annotations

import re
import time

from playwright.sync_api import expect

HOSTILE = "<img src=x onerror=alert(1)>"


def flow_doc(flow_id: str, name: str, nodes: list[dict], edges: list[dict] | None = None) -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": name, "nodes": nodes, "edges": edges or []}


def manual(node_id="start", **extra) -> dict:
    return {"id": node_id, "type": "event.manual", "type_version": 1, "config": {"sample": {"n": 1}},
            "position": {"x": 40, "y": 60}, **extra}


def mapping(node_id: str, x: int, expression="$", **extra) -> dict:
    return {"id": node_id, "type": "transform.map", "type_version": 1, "config": {"expression": expression},
            "position": {"x": x, "y": 60}, **extra}


def edge(eid: str, source: str, target: str, port="out") -> dict:
    return {"id": eid, "source": source, "source_port": port, "target": target, "target_port": "in"}


def test_a_hostile_node_name_shows_as_literal_text_and_runs_no_script(canvas, page, canvas_api, canvas_url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    flow_id = f"xss-{time.time_ns()}"
    canvas_api.create_flow(flow_doc(flow_id, HOSTILE, [
        manual(name=HOSTILE, notes=HOSTILE),
        mapping("shaper", 320, expression=f"'{HOSTILE}'", name="Shaper"),
    ], [edge("e1", "start", "shaper")]))

    page.goto(canvas_url + "/flows")
    row = page.locator(f"tr[data-flow-id='{flow_id}'] a")
    expect(row).to_have_text(HOSTILE)
    canvas.open(flow_id)
    expect(page.locator("[data-testid=flow-title]")).to_have_text(HOSTILE)
    expect(canvas.node("start").locator(".cd-node-name")).to_have_text(HOSTILE)
    expect(canvas.node("start").locator(".cd-node-notes")).to_have_text(HOSTILE)
    expect(canvas.node("shaper").locator(".cd-node-summary")).to_contain_text(HOSTILE)

    # Renaming through the inspector keeps it text as well.
    canvas.node("shaper").click()
    page.fill("[data-testid=node-name]", HOSTILE + "<script>alert(2)</script>")
    expect(canvas.node("shaper").locator(".cd-node-name")).to_have_text(HOSTILE + "<script>alert(2)</script>")

    assert page.locator("#root img").count() == 0 and page.locator("#root script").count() == 0
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert dialogs == []
    canvas.shot("hostile-names")


def test_deploy_is_refused_while_errors_remain_and_a_problem_selects_its_node(canvas, page, canvas_api):
    flow_id = f"refuse-{time.time_ns()}"
    canvas_api.create_flow(flow_doc(flow_id, "Broken mapping", [
        manual(), mapping("broken", 320, expression="order.("),
    ], [edge("e1", "start", "broken")]))
    canvas.open(flow_id)
    problem = page.locator("[data-testid=problems] li[data-node=broken][data-code=expression_invalid]")
    expect(problem).to_have_count(1)
    expect(canvas.node("broken").locator(".cd-node")).to_have_class(re.compile(r"\bhas-error\b"))

    page.click("[data-testid=deploy]")
    expect(page.locator("[data-testid=notice]")).to_contain_text("Deploy refused")
    expect(page.locator("[data-testid=deployed]")).to_have_count(0)
    assert canvas_api.call("GET", f"/flows/{flow_id}")["deployed_version"] is None

    problem.click()
    assert canvas.selection() == ["broken"]
    # the inspector opens on that node with the error position marked in its expression
    expect(page.locator("[data-testid=node-name]")).to_have_value("broken")
    expect(page.locator("[data-testid='editor-expression'] .cm-lintRange-error")).to_have_count(1)
    canvas.shot("deploy-refused")


def test_saving_over_a_newer_draft_is_a_conflict_not_an_overwrite(canvas, page, canvas_api):
    flow_id = f"conflict-{time.time_ns()}"
    canvas_api.create_flow(flow_doc(flow_id, "Shared flow", [manual()]))
    canvas.open(flow_id)

    # Someone else saves first.
    theirs = canvas_api.call("GET", f"/flows/{flow_id}")["flow"]
    theirs["name"] = "Renamed by a colleague"
    canvas_api.call("PUT", f"/flows/{flow_id}", theirs, headers={"If-Match": '"1"'})

    canvas.node("start").click()
    page.fill("[data-testid=node-name]", "My trigger")
    page.keyboard.press("Control+s")
    expect(page.locator("[data-testid=conflict]")).to_be_visible()
    assert canvas_api.call("GET", f"/flows/{flow_id}")["flow"]["name"] == "Renamed by a colleague"
    expect(page.locator("[data-testid=save-state]")).to_have_text("Unsaved changes")
    canvas.shot("conflict")

    page.get_by_role("button", name="Load their version").click()
    expect(page.locator("[data-testid=flow-title]")).to_have_text("Renamed by a colleague")
    expect(page.locator("[data-testid=conflict]")).to_have_count(0)
    assert canvas.flow()["nodes"][0]["name"] == "start"


def test_leaving_with_unsaved_changes_asks_first(canvas, page, canvas_api):
    flow_id = f"guard-{time.time_ns()}"
    canvas_api.create_flow(flow_doc(flow_id, "Guarded", [manual()]))
    canvas.open(flow_id)
    canvas.node("start").click()
    page.fill("[data-testid=node-name]", "Changed")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("[data-testid=back]")
    assert asked and "unsaved" in asked[0].lower()
    expect(page).to_have_url(f"{canvas.base_url}/flows/{flow_id}")
    page.once("dialog", lambda d: d.accept())
    page.click("[data-testid=back]")
    expect(page).to_have_url(f"{canvas.base_url}/flows")

    # Closing or reloading the tab with unsaved changes asks the browser to confirm as well.
    canvas.open(flow_id)
    canvas.node("start").click()
    page.fill("[data-testid=node-name]", "Changed again")
    kinds = []
    page.once("dialog", lambda d: (kinds.append(d.type), d.dismiss()))
    page.close(run_before_unload=True)
    for _ in range(40):
        if kinds:
            break
        page.wait_for_timeout(50)
    assert kinds == ["beforeunload"]
    assert not page.is_closed()  # dismissing the prompt keeps the editor open

