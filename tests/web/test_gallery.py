"""Issue 5: the template gallery lists the bundled templates with their descriptions; "Use template" asks
for the parameters and installs one; after a first start (templates installed, OMS subscribed) an order posted
to the OMS sandbox flows through ERP and WMS, in the sandbox pages and on the live canvas."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from support import wait_for
from support.browser import call

BUNDLED = ["order-release", "inventory-sync", "shipment-confirmation", "returns", "edi-order-intake", "edi-asn-out"]



@pytest.fixture
def fresh_workspace(live_server):
    """A workspace of this test's own in the live Crossdock; its OMS webhook subscriptions go at teardown."""
    ws = f"gal{uuid.uuid4().hex[:8]}"
    live_server.runtime.ensure_workspace(ws)
    yield ws
    subs = call(f"{live_server.sandbox_url}/oms/api/webhook-subscriptions")["webhooks"]
    for s in subs:
        if f"/hooks/{ws}/" in s["address"]:
            call(f"{live_server.sandbox_url}/oms/api/webhook-subscriptions/{s['id']}", "DELETE")


def test_use_template_asks_for_parameters_and_installs_the_flow(page, canvas_url, fresh_workspace, out_dir, live_login):
    ws = fresh_workspace
    page.goto(f"{canvas_url}/templates?workspace={ws}")
    cards = page.locator("[data-testid=template-card]")
    expect(cards).to_have_count(len(BUNDLED))
    assert [cards.nth(i).get_attribute("data-template-id") for i in range(len(BUNDLED))] == BUNDLED
    for i in range(len(BUNDLED)):
        assert len(cards.nth(i).locator("[data-testid=template-description]").inner_text()) > 40
    expect(cards.first.locator("[data-testid=template-name]")).to_have_text("Order release: OMS to ERP to WMS")
    expect(page.locator("[data-testid=template-installed]")).to_have_count(0)
    page.screenshot(path=str(out_dir / "1-gallery.png"))

    card = page.locator("[data-template-id=inventory-sync]")
    card.locator("[data-testid=use-template]").click()
    dialog = page.locator("[data-testid=use-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-testid=use-flow-id]")).to_have_value("inventory-sync")
    expect(dialog.locator("[data-testid=param-safety_stock]")).to_have_value("0")
    expect(dialog.locator("[data-testid=param-erp_location]")).to_have_value("MAIN")
    expect(dialog).to_contain_text("Eaches held back from what the OMS may sell")
    dialog.locator("[data-testid=use-flow-id]").fill("stock-east")
    dialog.locator("[data-testid=param-safety_stock]").fill("5")
    dialog.locator("[data-testid=param-erp_location]").fill("EAST")
    page.screenshot(path=str(out_dir / "2-dialog.png"))
    dialog.locator("[data-testid=use-submit]").click()
    expect(dialog.locator("[data-testid=installed-flow]")).to_have_text("stock-east")
    page.screenshot(path=str(out_dir / "3-installed.png"))

    flow = call(f"{canvas_url}/api/v1/flows/stock-east", workspace=ws, login=live_login)["flow"]
    assert flow["params"]["safety_stock"]["default"] == 5 and flow["params"]["erp_location"]["default"] == "EAST"

    # the new flow is in the workspace's flow list, and the gallery says where it is installed
    dialog.locator("[data-testid=open-installed]").click()
    page.wait_for_function("window.__crossdock && window.__crossdock.ready")
    assert page.url.endswith(f"/flows/stock-east?workspace={ws}")
    page.click("[data-testid=back]")
    expect(page.locator("[data-testid=flow-table] tr[data-flow-id=stock-east]")).to_be_visible()
    page.screenshot(path=str(out_dir / "4-flow-list.png"))
    page.click("[data-testid=nav-templates]")
    expect(page.locator("[data-testid=template-card]")).to_have_count(len(BUNDLED))

    # a parameter of the wrong type is refused by the server and shown at its field
    page.locator("[data-template-id=shipment-confirmation] [data-testid=use-template]").click()
    expect(dialog.locator("[data-testid=param-invoice_on_ship]")).to_have_value("true")
    dialog.locator("[data-testid=use-flow-id]").fill("stock-east")
    dialog.locator("[data-testid=use-submit]").click()
    expect(dialog.locator("[data-testid=use-error]")).to_be_visible()
    dialog.locator("[data-testid=use-flow-id]").fill("ship-confirm")
    dialog.locator("[data-testid=param-invoice_on_ship]").select_option("false")
    dialog.locator("[data-testid=use-submit]").click()
    expect(dialog.locator("[data-testid=installed-flow]")).to_have_text("ship-confirm")
    flow = call(f"{canvas_url}/api/v1/flows/ship-confirm", workspace=ws, login=live_login)["flow"]
    assert flow["params"]["invoice_on_ship"]["default"] is False


def test_first_start_templates_run_against_the_sandboxes_live(page, live_server, fresh_workspace, out_dir, live_login):
    from designer import templates

    ws, base, sandbox = fresh_workspace, str(live_server), live_server.sandbox_url
    templates.install_bundled(live_server.runtime, ws, sandbox, hook_base=base)  # what the embedded first start does
    page.goto(f"{base}/templates?workspace={ws}")
    installed = page.locator("[data-testid=template-installed]")
    expect(installed).to_have_count(len(BUNDLED))
    for flow_id in BUNDLED:
        expect(page.locator(f"[data-template-id={flow_id}] [data-testid=template-installed]")).to_contain_text(flow_id)
        assert call(f"{base}/api/v1/flows/{flow_id}", workspace=ws, login=live_login)["deployed_version"] == 1
    page.screenshot(path=str(out_dir / "1-gallery-installed.png"))

    page.locator("[data-template-id=order-release] [data-testid=template-installed] a", has_text="monitor").click()
    page.wait_for_function("window.__crossdockMonitor && window.__crossdockMonitor.ready")
    expect(page.locator("[data-testid=live-state]")).to_have_attribute("data-connected", "true")
    doc = call(f"{base}/api/v1/flows/order-release", workspace=ws, login=live_login)["flow"]
    sinks = {n["type"]: n["id"] for n in doc["nodes"] if n["type"] in ("connector.erp", "connector.wms")}
    assert set(sinks) == {"connector.erp", "connector.wms"}

    order = call(f"{sandbox}/oms/api/orders", "POST",
                 {"order": {"customer": {"id": 7001}, "line_items": [{"sku": "hw-33126-c", "quantity": 12}]}})["order"]
    for node in sinks.values():  # the order passes the ERP and WMS nodes on the live canvas
        strip = page.locator(f".react-flow__node[data-id='{node}'] [data-testid=monitor-strip]")
        expect(strip).not_to_have_attribute("data-out", "0", timeout=30_000)
    expect(page.locator("[data-testid=recent-runs] [data-testid=run-status]").first).to_have_text("succeeded", timeout=30_000)
    page.screenshot(path=str(out_dir / "2-monitor.png"))

    erp = wait_for(lambda: call(f"{sandbox}/erp/api/sales-orders?externalDocumentNo={order['id']}")["value"], timeout=30)
    page.goto(f"{sandbox}/erp/")
    expect(page.locator("body")).to_contain_text(erp[0]["no"])
    page.screenshot(path=str(out_dir / "3-erp-page.png"))
    page.goto(f"{sandbox}/wms/")
    expect(page.locator("body")).to_contain_text(erp[0]["no"])
    page.screenshot(path=str(out_dir / "4-wms-page.png"))
