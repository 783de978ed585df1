"""A mapper in the browser: changes a mapping, sees its preview and saves it, while the flow's structure
stays read-only (no palette, nodes neither dragged nor deleted nor wired, other config locked), and the
server refuses a structural change sent behind the page's back."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from runtime import accounts, tenancy
from support import identity
from support.browser import AdminSession, browser_page

SAMPLE = {"order": {"number": "PO-77", "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 3}]}}


def _node(id, type, x, config):
    return {"id": id, "type": type, "type_version": 1, "config": config, "position": {"x": x, "y": 120}}


def mapping_flow(flow_id: str) -> dict:
    """manual (with a sample) -> map -> lookup (unknown keys kept)."""
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": "Carrier mapping",
            "nodes": [_node("start", "event.manual", 40, {"sample": SAMPLE}),
                      _node("shape", "transform.map", 330, {"expression": "{ 'ref': order.number }"}),
                      _node("carrier", "transform.lookup", 620, {"table": "carriers", "key": "ref", "missing": "keep"})],
            "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "shape", "target_port": "in"},
                      {"id": "e2", "source": "shape", "source_port": "out", "target": "carrier", "target_port": "in"}]}


@pytest.fixture
def mapper_page(chromium, live_server, out_dir):
    """A browser signed in, through the login page, as a new mapper of workspace `default`."""
    user = identity.make_user(live_server.runtime, "default", "mapper", "default")
    with browser_page(chromium, out_dir) as pg:
        pg.goto(f"{live_server.rstrip('/')}/login")
        pg.fill("[data-testid=login-email]", accounts.identity(live_server.runtime, user).email)
        pg.fill("[data-testid=login-password]", identity.PASSWORD)
        pg.click("[data-testid=login-submit]")
        expect(pg.locator("[data-testid=current-role]")).to_have_text("mapper")
        yield pg


def flow_in_page(page) -> dict:
    return page.evaluate("window.__crossdock.getFlow()")


def test_mapper_changes_a_mapping_sees_its_preview_and_saves_it(mapper_page, admin, live_server, out_dir):
    page, base = mapper_page, live_server.rstrip("/")
    flow_id = f"mapper-{uuid.uuid4().hex[:8]}"
    admin.call("POST", "/flows", mapping_flow(flow_id))

    page.goto(f"{base}/flows")
    expect(page.locator(f"tr[data-flow-id='{flow_id}']")).to_be_visible()
    expect(page.locator("[data-testid=create-flow]")).to_have_count(0)  # a mapper creates no flows
    expect(page.locator(f"tr[data-flow-id='{flow_id}'] [data-testid=delete-flow]")).to_have_count(0)

    page.goto(f"{base}/flows/{flow_id}")
    page.wait_for_function("window.__crossdock && window.__crossdock.ready")
    assert page.evaluate("window.__crossdock.mode") == "mapping"
    expect(page.locator("[data-testid=mode-banner]")).to_contain_text("structure is read-only")
    expect(page.locator("[data-testid=deploy]")).to_have_count(0)
    expect(page.locator("[data-testid=run]")).to_have_count(0)

    page.click(".react-flow__node[data-id='shape']")
    expect(page.locator("[data-testid=node-name]")).to_be_disabled()
    expect(page.locator("[data-testid='field-allow_empty']")).to_be_disabled()  # not a mapping field
    expect(page.locator("[data-testid='preview-output']")).to_contain_text('"ref": "PO-77"')  # the trigger's sample
    page.click("[data-testid='editor-expression'] .cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.type("{ 'ref': 'X-' & order.number, 'qty': $sum(order.lines.qty) }")
    expect(page.locator("[data-testid='preview-output']")).to_contain_text('"ref": "X-PO-77"')
    expect(page.locator("[data-testid='preview-output']")).to_contain_text('"qty": 5')
    expect(page.locator("[data-testid=save-state]")).to_have_text("Unsaved changes")
    page.screenshot(path=str(out_dir / "1-mapping-previewed.png"))

    # the lookup's table and key are mapping fields too; what happens to a missing key is not
    page.click(".react-flow__node[data-id='carrier']")
    expect(page.locator("[data-testid='field-missing']")).to_be_disabled()
    page.fill("[data-testid='field-key']", "ref")  # the key field stays editable
    expect(page.locator("[data-testid='field-key']")).to_be_enabled()

    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=notice]")).to_contain_text("Saved")
    expect(page.locator("[data-testid=save-state]")).to_contain_text("Saved")
    stored = admin.call("GET", f"/flows/{flow_id}")["flow"]
    shape = next(n for n in stored["nodes"] if n["id"] == "shape")
    assert shape["config"]["expression"] == "{ 'ref': 'X-' & order.number, 'qty': $sum(order.lines.qty) }"
    page.screenshot(path=str(out_dir / "2-saved.png"))


def test_mapper_cannot_change_the_structure(mapper_page, admin, live_server, out_dir):
    page, base = mapper_page, live_server.rstrip("/")
    flow_id = f"mapper-{uuid.uuid4().hex[:8]}"
    admin.call("POST", "/flows", mapping_flow(flow_id))
    page.goto(f"{base}/flows/{flow_id}")
    page.wait_for_function("window.__crossdock && window.__crossdock.ready")
    before = flow_in_page(page)

    expect(page.locator("[data-testid=palette]")).to_have_count(0)
    expect(page.locator("[data-testid=tidy]")).to_have_count(0)

    # dragging a node does not move it
    box = page.locator(".react-flow__node[data-id='shape']").bounding_box()
    page.mouse.move(box["x"] + 60, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 120, steps=6)
    page.mouse.move(box["x"] + 260, box["y"] + 220, steps=6)
    page.mouse.up()
    # (the gesture pans the view instead: the node stays where the document has it)
    assert [n["position"] for n in flow_in_page(page)["nodes"]] == [n["position"] for n in before["nodes"]]

    # wiring a new edge (start -> carrier) is refused: handles do not connect
    s = page.locator(".react-flow__node[data-id='start'] .react-flow__handle.source").bounding_box()
    t = page.locator(".react-flow__node[data-id='carrier'] .react-flow__handle.target").bounding_box()
    page.mouse.move(s["x"] + s["width"] / 2, s["y"] + s["height"] / 2)
    page.mouse.down()
    page.mouse.move(s["x"] + 40, s["y"] + 10, steps=3)
    page.mouse.move(t["x"] + t["width"] / 2, t["y"] + t["height"] / 2, steps=6)
    page.mouse.up()

    # Delete and Backspace on a selected node and a selected edge do nothing; no Delete button either
    page.click(".react-flow__node[data-id='shape']")
    assert page.evaluate("window.__crossdock.getSelection()") == ["shape"]
    page.keyboard.press("Delete")
    page.keyboard.press("Backspace")
    page.keyboard.press("Control+D")  # nor duplicate
    page.keyboard.press("Control+V")  # nor paste
    assert flow_in_page(page) == before
    expect(page.locator("[data-testid=save-state]")).to_contain_text("Saved")
    page.screenshot(path=str(out_dir / "1-structure-unchanged.png"))

    # a save sent behind the page's back that adds a node is refused by the server
    csrf = page.request.get(f"{base}/api/v1/session").json()["csrf_token"]
    doc = {**before, "nodes": [*before["nodes"], _node("extra", "transform.map", 900, {"expression": "$"})]}
    r = page.request.put(f"{base}/api/v1/flows/{flow_id}", data=doc, headers={"X-Crossdock-CSRF": csrf})
    assert r.status == 403 and r.json()["error"]["code"] == "forbidden"
    assert [n["id"] for n in admin.call("GET", f"/flows/{flow_id}")["flow"]["nodes"]] == ["start", "shape", "carrier"]
    r = page.request.post(f"{base}/api/v1/flows/{flow_id}/deploy", data={}, headers={"X-Crossdock-CSRF": csrf})
    assert r.status == 403


def test_viewer_sees_everything_read_only(chromium, admin, live_server, out_dir):
    base = live_server.rstrip("/")
    flow_id = f"viewer-{uuid.uuid4().hex[:8]}"
    admin.call("POST", "/flows", mapping_flow(flow_id))
    user = identity.make_user(live_server.runtime, "default", "viewer", "default")
    with browser_page(chromium, out_dir) as page:
        page.goto(f"{base}/login?next=/flows/{flow_id}")
        page.fill("[data-testid=login-email]", accounts.identity(live_server.runtime, user).email)
        page.fill("[data-testid=login-password]", identity.PASSWORD)
        page.click("[data-testid=login-submit]")
        expect(page).to_have_url(re.compile(f"/flows/{flow_id}$"))
        page.wait_for_function("window.__crossdock && window.__crossdock.ready")
        assert page.evaluate("window.__crossdock.mode") == "view"
        for absent in ("palette", "save", "deploy", "run", "undo"):
            expect(page.locator(f"[data-testid={absent}]")).to_have_count(0)
        page.click(".react-flow__node[data-id='shape']")
        expect(page.locator("[data-testid=readonly-expression]")).to_be_visible()
        expect(page.locator("[data-testid='editor-expression'] .cm-content")).to_have_attribute("contenteditable", "false")
        page.screenshot(path=str(out_dir / "viewer.png"))


def test_a_suspended_workspace_opens_read_only_even_to_its_admin(chromium, live_server, out_dir):
    base, rt = live_server.rstrip("/"), live_server.runtime
    partner = identity.make_partner(rt)
    ws = f"susp-{uuid.uuid4().hex[:8]}"
    tenancy.create(rt, partner, ws, "On hold")
    email = f"admin@{partner}.test"
    identity.make_user(rt, partner, "admin", email=email)
    owner = AdminSession(base, email, identity.PASSWORD)
    owner.headers["X-Crossdock-Workspace"] = ws
    flow_id = f"held-{uuid.uuid4().hex[:8]}"
    owner.call("POST", "/flows", mapping_flow(flow_id))
    tenancy.update(rt, partner, ws, {"status": "suspended"})

    with browser_page(chromium, out_dir) as page:
        page.goto(f"{base}/login?next=/flows/{flow_id}%3Fworkspace%3D{ws}")
        page.fill("[data-testid=login-email]", email)
        page.fill("[data-testid=login-password]", identity.PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_function("window.__crossdock && window.__crossdock.ready")
        assert page.evaluate("window.__crossdock.mode") == "view"
        expect(page.locator("[data-testid=mode-banner]")).to_contain_text("suspended")
        for absent in ("palette", "save", "deploy", "run"):
            expect(page.locator(f"[data-testid={absent}]")).to_have_count(0)
        page.goto(f"{base}/flows?workspace={ws}")
        expect(page.locator(f"tr[data-flow-id='{flow_id}']")).to_be_visible()
        expect(page.locator("[data-testid=create-flow]")).to_have_count(0)
        expect(page.locator("[data-testid=workspace-switch]")).to_contain_text("(suspended)")
        page.screenshot(path=str(out_dir / "suspended.png"))
