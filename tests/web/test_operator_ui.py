"""An operator in the browser: finds a failed run, replays it, and follows the new run; the flows stay
read-only (no create, delete, save or deploy)."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from runtime import accounts
from support import identity, wait_for
from support.browser import AdminSession, browser_page


def pickup_flow(flow_id: str) -> dict:
    """manual -> map that fails (mapping_empty) for an order without lines, to give the operator a failure."""
    def node(id, type, x, config):
        return {"id": id, "type": type, "type_version": 1, "config": config, "position": {"x": x, "y": 120}}
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": "Pickups",
            "nodes": [node("start", "event.manual", 40, {"sample": {"order": {"number": "PO-1", "lines": [{"qty": 1}]}}}),
                      node("shape", "transform.map", 330, {"expression": "order.lines[qty > 0]", "allow_empty": False}),
                      node("done", "control.discard", 620, {"reason": "end of the test flow"})],
            "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "shape", "target_port": "in"},
                      {"id": "e2", "source": "shape", "source_port": "out", "target": "done", "target_port": "in"}]}


@pytest.fixture
def operator_page(chromium, live_server, out_dir):
    user = identity.make_user(live_server.runtime, "default", "operator", "default")
    with browser_page(chromium, out_dir) as pg:
        pg.email = accounts.identity(live_server.runtime, user).email  # type: ignore[attr-defined]
        yield pg


def test_operator_replays_a_failed_run(operator_page, live_server, out_dir):
    page, base = operator_page, live_server.rstrip("/")
    admin = AdminSession(base, live_server.admin_email, live_server.admin_password)
    flow_id = f"pickups-{uuid.uuid4().hex[:8]}"
    admin.call("POST", "/flows", pickup_flow(flow_id))
    admin.call("POST", f"/flows/{flow_id}/deploy", {})
    failed = admin.call("POST", f"/flows/{flow_id}/runs", {"input": {"order": {"number": "PO-2", "lines": []}}})["run"]["id"]
    wait_for(lambda: admin.call("GET", f"/runs/{failed}")["run"]["status"] == "failed")
    # the fix the replay picks up: version 2 lets an empty result through
    doc = admin.call("GET", f"/flows/{flow_id}")["flow"]
    doc["nodes"][1]["config"]["allow_empty"] = True
    admin.call("PUT", f"/flows/{flow_id}", doc)
    admin.call("POST", f"/flows/{flow_id}/deploy", {})

    page.goto(f"{base}/runs?flow_id={flow_id}&status=failed")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("[data-testid=login-email]", page.email)  # type: ignore[attr-defined]
    page.fill("[data-testid=login-password]", identity.PASSWORD)
    page.click("[data-testid=login-submit]")
    expect(page.locator("[data-testid=current-role]")).to_have_text("operator")
    row = page.locator(f"[data-testid=run-table] tbody tr[data-run-id='{failed}']")
    expect(row).to_be_visible()
    expect(row.locator("[data-testid=run-status]")).to_have_text("failed")
    page.screenshot(path=str(out_dir / "1-failed-run.png"))

    page.goto(f"{base}/runs/{failed}")
    expect(page.locator("[data-testid=run-inspector]")).to_have_attribute("data-run-status", "failed")
    expect(page.locator("[data-testid=edit-rerun]")).to_be_visible()
    page.click("[data-testid=replay-current]")
    expect(page.locator("[data-testid=replay-of]")).to_have_text(f"#{failed}")
    expect(page.locator("[data-testid=run-inspector]")).to_have_attribute("data-run-status", "succeeded")
    replayed = int(re.search(r"/runs/(\d+)", page.url).group(1))
    run = admin.call("GET", f"/runs/{replayed}")["run"]
    assert run["replay_of"] == failed and run["version"] == 2 and run["status"] == "succeeded"
    page.screenshot(path=str(out_dir / "2-replayed.png"))

    # live events reach the operator's monitor: the socket's handshake carries the session cookie
    page.goto(f"{base}/monitor/{flow_id}")
    expect(page.locator("[data-testid=live-state]")).to_have_attribute("data-connected", "true")

    # flows are read-only to an operator: no create or delete in the list, nothing to save or deploy
    page.goto(f"{base}/flows")
    expect(page.locator(f"tr[data-flow-id='{flow_id}']")).to_be_visible()
    expect(page.locator("[data-testid=create-flow]")).to_have_count(0)
    expect(page.locator("[data-testid=delete-flow]")).to_have_count(0)
    page.goto(f"{base}/flows/{flow_id}")
    page.wait_for_function("window.__crossdock && window.__crossdock.ready")
    assert page.evaluate("window.__crossdock.mode") == "view"
    for absent in ("palette", "save", "deploy"):
        expect(page.locator(f"[data-testid={absent}]")).to_have_count(0)
    expect(page.locator("[data-testid=run]")).to_be_visible()  # an operator starts runs
