"""Acceptance 3 of issue 14, the document thread in the browser: the bundled order release (OMS -> ERP -> WMS) and
shipment confirmation flows deployed against the sandbox systems; an OMS order is released, the WMS ships it and
its confirmation runs; searching the order's PO number on /threads shows the release and the shipment confirmation
in time order (linked through the ERP's sales order number), each linking to its run and naming the systems it
reached; a third flow's run with the tracking number joins the open page live. The flow inspector edits the keys."""
from __future__ import annotations

import uuid

from playwright.sync_api import expect

from support import wait_for
from support.browser import call




def test_a_po_number_shows_its_release_and_shipment_confirmation_in_time_order(page, live_server, templated_workspace,
                                                                                out_dir, live_login):
    ws, base, sandbox = templated_workspace, str(live_server), live_server.sandbox_url

    def api(path: str, method: str = "GET", body=None):
        return call(f"{base}/api/v1{path}", method, body, workspace=ws, login=live_login)

    def ended(run_id: int) -> dict:
        return wait_for(lambda: (r := api(f"/runs/{run_id}")["run"])["status"] in ("succeeded", "failed") and r,
                        timeout=30)

    # the OMS calls the order release flow's webhook when the order is created
    order = call(f"{sandbox}/oms/api/orders", "POST",
                 {"order": {"customer": {"id": 7001}, "line_items": [{"sku": "hw-20620-c", "quantity": 4}]}})["order"]
    po = str(order["id"])
    [erp] = wait_for(lambda: call(f"{sandbox}/erp/api/sales-orders?externalDocumentNo={po}")["value"], timeout=30)
    released = wait_for(lambda: api("/runs?flow_id=order-release")["runs"], timeout=30)[0]
    assert ended(released["id"])["status"] == "succeeded"
    [wms] = wait_for(lambda: call(f"{sandbox}/wms/api/shipping-orders?orderNumber={erp['no']}")["data"], timeout=30)
    shipment = call(f"{sandbox}/wms/api/shipping-orders/{wms['id']}/ship-confirm", "POST", {"parcels": [
        {"trackingNumber": f"1Z{uuid.uuid4().hex[:10].upper()}", "weightKg": 1.1,
         "lines": [{"lineNumber": 10000, "qty": 4}]}]})["data"]
    confirmed = api("/flows/shipment-confirmation/runs", "POST", {"input": shipment})["run"]
    assert ended(confirmed["id"])["status"] == "succeeded"

    page.goto(f"{base}/threads?workspace={ws}")
    page.fill("[data-testid=thread-key]", po)
    page.click("[data-testid=thread-search]")
    entries = page.locator("[data-testid=thread-entry]")
    expect(entries).to_have_count(2)
    assert [int(entries.nth(i).get_attribute("data-run-id")) for i in range(2)] == [released["id"], confirmed["id"]]
    expect(entries.nth(0).locator("[data-testid=thread-label]")).to_have_text("Order released to ERP and WMS")
    expect(entries.nth(1).locator("[data-testid=thread-label]")).to_have_text("Shipment confirmed by the WMS")
    expect(entries.nth(1).locator("[data-testid=run-status]")).to_have_text("succeeded")
    # the systems each run reached, in the order it called them
    systems = [entries.nth(i).locator("[data-testid=thread-systems] [data-system]") for i in range(2)]
    expect(systems[0]).to_have_text(["ERP", "WMS", "OMS"])
    expect(systems[1]).to_have_text(["ERP", "OMS"])
    expect(entries.nth(0).locator("[data-system=wms]")).to_have_attribute("data-status", "succeeded")
    keys = page.locator("[data-testid=thread-keys]")
    for value in (po, erp["no"], shipment["shipmentId"], shipment["parcels"][0]["trackingNumber"]):
        expect(keys).to_contain_text(value)
    assert f"key={po}" in page.url and f"workspace={ws}" in page.url  # the thread's address can be shared
    page.screenshot(path=str(out_dir / "1-thread.png"))

    # live: the carrier's proof of delivery, by tracking number, joins the open timeline when its run ends
    api("/flows", "POST", {"schema": "crossdock.flow/1", "id": "delivered", "name": "Proof of delivery",
                           "settings": {"correlation": {"tracking": "tracking"}, "thread_label": "Delivered"},
                           "nodes": [{"id": "start", "type": "event.manual", "config": {}},
                                     {"id": "done", "type": "control.discard", "config": {"reason": "recorded"}}],
                           "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "done",
                                      "target_port": "in"}]})
    api("/flows/delivered/deploy", "POST", {})
    delivered = api("/flows/delivered/runs", "POST", {"input": {
        "tracking": shipment["parcels"][0]["trackingNumber"]}})["run"]
    expect(entries).to_have_count(3)
    expect(entries.nth(2)).to_have_attribute("data-run-id", str(delivered["id"]))
    expect(entries.nth(2).locator("[data-testid=thread-label]")).to_have_text("Delivered")

    # from the thread to the run, and found again by the tracking number
    entries.nth(1).locator("[data-testid=thread-run-link]").click()
    page.wait_for_url(f"**/runs/{confirmed['id']}?workspace={ws}")
    # and back: the run page links its business key's thread (the shipment id, a key of the thread too)
    page.click("[data-testid=run-thread]")
    expect(page.locator("[data-testid=thread-entry]")).to_have_count(3)
    assert f"key={shipment['shipmentId']}" in page.url
    page.goto(f"{base}/threads?workspace={ws}&key={shipment['parcels'][0]['trackingNumber']}")
    expect(page.locator("[data-testid=thread-entry]")).to_have_count(3)
    page.fill("[data-testid=thread-key]", "no-such-document")
    page.press("[data-testid=thread-key]", "Enter")
    expect(page.locator("[data-testid=thread-empty]")).to_be_visible()
    page.screenshot(path=str(out_dir / "2-nothing.png"))


def test_the_flow_inspector_edits_correlation_keys_and_the_thread_label(canvas, page, canvas_api):
    flow_id = f"keys-{uuid.uuid4().hex[:8]}"
    canvas_api.create_flow({"schema": "crossdock.flow/1", "id": flow_id, "name": "Keys", "nodes": [
        {"id": "start", "type": "event.manual", "config": {}, "position": {"x": 40, "y": 40}}], "edges": []})
    canvas.open(flow_id)
    keys = page.locator("[data-testid=flow-correlation]")
    keys.fill("po: order.po\nshipment")  # a line without its expression stays out until it has one
    assert canvas.flow()["settings"]["correlation"] == {"po": "order.po"}
    keys.press("End")
    keys.type(": schema_version ? shipment_id : shipmentId")
    assert canvas.flow()["settings"]["correlation"] == {"po": "order.po",
                                                        "shipment": "schema_version ? shipment_id : shipmentId"}
    page.fill("[data-testid=flow-thread_label]", "shipment confirmed")
    assert canvas.flow()["settings"]["thread_label"] == "shipment confirmed"
    keys.fill("")
    assert "correlation" not in canvas.flow()["settings"]
    canvas.shot("flow-settings")
