"""Issue 13, acceptance 3, in a real browser: a lookup table created by CSV upload on its page, picked in a lookup
node's inspector and used by a run; a connection made and tested on its page; a dry run of a flow with an ERP node
shows the request body in the step and leaves the ERP sandbox as it was (its orders and its request log), and a real
run asks first, naming the system it writes to."""
from __future__ import annotations

import json
import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout, expect

from support import wait_for
from support.browser import call, run_with_sample


def node(id, type, x, config):
    return {"id": id, "type": type, "type_version": 1, "config": config, "position": {"x": x, "y": 120}}


def edge(i, source, target, port="out"):
    return {"id": f"e{i}", "source": source, "source_port": port, "target": target, "target_port": "in"}


def test_a_table_uploaded_on_its_page_is_picked_in_the_inspector_and_used_by_a_run(canvas, page, canvas_api,
                                                                                    canvas_url):
    tag = str(time.time_ns())[-9:]
    table, flow_id = f"skus_{tag}", f"xref-{tag}"
    canvas_api.create_flow({"schema": "crossdock.flow/1", "id": flow_id, "name": f"Xref {tag}", "nodes": [
        node("start", "event.manual", 40, {"sample": {"sku": "hw-1", "qty": 2}}),
        node("xref", "transform.lookup", 320, {"table": f"{table}_missing", "key": "sku", "target": "item"}),
        node("done", "control.discard", 600, {"reason": "the enriched order"})],
        "edges": [edge(1, "start", "xref"), edge(2, "xref", "done"), edge(3, "xref", "done", "not_found")]})

    page.goto(f"{canvas_url}/lookups")
    page.fill("[data-testid=lookup-new-name]", table)
    page.set_input_files("[data-testid=lookup-file]", files=[{
        "name": "skus.csv", "mimeType": "text/csv", "buffer": b"oms_sku,erp_item\nhw-1,HW-20620-C\nhw-2,HW-61610-C\n"}])
    page.click("[data-testid=lookup-upload-btn]")
    expect(page.locator("[data-testid=lookup-notice]")).to_contain_text(f"2 row(s) loaded into {table}")
    expect(page.locator(f"[data-testid=lookup-table-{table}]")).to_contain_text("(2)")
    expect(page.locator("[data-testid=lookup-row-hw-1] input")).to_have_value("HW-20620-C")
    expect(page.locator("[data-testid=lookup-users]")).to_contain_text("No flow uses this table")
    assert canvas_api.call("GET", f"/lookups/{table}")["rows"] == {"hw-1": "HW-20620-C", "hw-2": "HW-61610-C"}

    canvas.open(flow_id)
    canvas.node("xref").click()
    field = page.locator("[data-testid=field-table]")
    expect(page.locator("[data-testid=field-table-create]")).to_have_attribute(
        "href", f"/lookups?new={table}_missing&return=close")  # a missing one can be created from here
    field.select_option(table)  # a select of the workspace's tables, not free text
    expect(page.locator("[data-testid=field-table-missing]")).to_have_count(0)
    page.keyboard.press("Control+s")
    expect(page.locator("[data-testid=save-state]")).to_contain_text("Saved")
    page.click("[data-testid=deploy]")
    expect(page.locator("[data-testid=deployed]")).to_have_count(1)
    run_with_sample(page, "trigger")  # nothing written anywhere: a real run, no confirmation
    expect(page.locator("[data-testid=notice]")).to_contain_text("Run succeeded")
    canvas.node("xref").click()
    page.click("[data-testid=tab-run]")
    assert json.loads(page.inner_text("[data-testid=step-output]")) == {"sku": "hw-1", "qty": 2, "item": "HW-20620-C"}

    page.goto(f"{canvas_url}/lookups?table={table}")  # the page names the flow that uses it now
    expect(page.locator("[data-testid=lookup-users]")).to_contain_text(f"Xref {tag}")
    page.fill("[data-testid=lookup-add-key]", "hw-3")  # a row added, one changed, on the page
    page.fill("[data-testid=lookup-add-value]", "HW-3")
    page.click("[data-testid=lookup-add]")
    expect(page.locator("[data-testid=lookup-row-hw-3] input")).to_have_value("HW-3")
    page.fill("[data-testid=lookup-row-hw-2] input", "HW-2B")
    page.locator("[data-testid=lookup-row-hw-2] input").blur()
    wait_for(lambda: canvas_api.call("GET", f"/lookups/{table}")["rows"].get("hw-2") == "HW-2B")
    with page.expect_download() as download:
        page.click("[data-testid=lookup-download]")
    with open(download.value.path(), encoding="utf-8") as f:
        assert f.read() == "key,value\nhw-1,HW-20620-C\nhw-2,HW-2B\nhw-3,HW-3\n"
    canvas.shot("lookup-used")


def erp_flow(flow_id: str, connection: str) -> dict:
    order = {"number": f"DRY-{flow_id}", "customer": "C-10442", "lines": [{"sku": "HW-20620-C", "qty": 3}]}
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": "Dry ERP", "nodes": [
        node("start", "event.manual", 40, {"sample": order}),
        node("shape", "transform.map", 300, {"expression": (
            "{'externalDocumentNo': number, 'customerNo': customer, "
            "'lines': [lines.{'itemNo': sku, 'quantity': qty}]}")}),
        node("erp", "connector.erp", 560, {"connection": connection, "operation": "upsert_sales_order"}),
        node("done", "control.discard", 820, {"reason": "sent"})],
        "edges": [edge(1, "start", "shape"), edge(2, "shape", "erp"), edge(3, "erp", "done")]}


def test_a_dry_run_shows_the_erp_request_and_leaves_the_sandbox_unchanged(canvas, page, canvas_api, canvas_url,
                                                                          live_server):
    tag = str(time.time_ns())[-9:]
    connection, flow_id = f"erp-{tag}", f"dry-{tag}"
    sandbox = live_server.sandbox_url

    # the connection made and tested on its page: the sandbox takes its token
    page.goto(f"{canvas_url}/connections")
    page.click("[data-testid=conn-new]")
    page.fill("[data-testid=conn-name]", connection)
    page.select_option("[data-testid=conn-system]", "erp")
    page.fill("[data-testid=conn-base_url]", f"{sandbox}/erp/api")
    page.select_option("[data-testid=conn-auth]", "bearer")
    page.fill("[data-testid=conn-token]", "sandbox-token")
    page.click("[data-testid=conn-save]")
    result = page.locator(f"[data-testid=conn-result-{connection}]")
    expect(result).to_have_attribute("data-outcome", "reachable")  # tested once saved
    expect(page.locator(f"[data-testid=conn-row-{connection}] [data-testid=secret-set]")).to_be_visible()
    assert "sandbox-token" not in json.dumps(canvas_api.call("GET", f"/connections/{connection}"))

    canvas_api.create_flow(erp_flow(flow_id, connection))
    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})
    orders = call(f"{sandbox}/erp/api/sales-orders")
    since = time.time()
    canvas.open(flow_id)

    # a real run asks first and names what it writes to; cancelled here
    page.click("[data-testid=run]")
    expect(page.locator("[data-testid=run-dry]")).to_be_checked()  # a flow that writes: dry by default
    page.check("[data-testid=run-source-trigger]")
    page.check("[data-testid=run-real]")
    expect(page.locator("[data-testid=run-writes]")).to_contain_text(f"ERP “{connection}” (node erp)")
    expect(page.locator("[data-testid=run-go]")).to_be_disabled()  # until confirmed
    page.keyboard.press("Escape")

    run_with_sample(page, "trigger")  # a dry run
    expect(page.locator("[data-testid=notice]")).to_contain_text("Dry run succeeded")
    canvas.node("erp").click()
    page.click("[data-testid=tab-run]")
    expect(page.locator("[data-testid=step-dry-run]")).to_contain_text(
        f"stopped before the call: would send POST {sandbox}/erp/api/sales-orders")
    shown = json.loads(page.inner_text("[data-testid=step-output]"))["dry_run"]
    assert shown["request"]["method"] == "POST" and shown["request"]["url"] == f"{sandbox}/erp/api/sales-orders"
    assert shown["request"]["body"] == {"externalDocumentNo": f"DRY-{flow_id}", "customerNo": "C-10442",
                                        "lines": [{"itemNo": "HW-20620-C", "quantity": 3}]}
    assert "sandbox-token" not in json.dumps(shown)
    canvas.shot("dry-run-step")

    assert call(f"{sandbox}/erp/api/sales-orders") == orders  # the ERP holds what it held
    sent = call(f"{sandbox}/_requests?system=erp&since={since}")["requests"]
    assert [r for r in sent if r["path"] != "/erp/api/sales-orders" or r["method"] != "GET"] == []

    run = canvas_api.call("GET", f"/runs?flow_id={flow_id}")["runs"][0]
    assert run["dry_run"] is True
    page.goto(f"{canvas_url}/runs/{run['id']}")
    expect(page.locator("[data-testid=run-dry]")).to_have_text("dry run")


def test_a_missing_connection_is_created_from_the_inspector_and_offered_on_return(canvas, page, canvas_api,
                                                                                  live_server):
    tag = str(time.time_ns())[-9:]
    connection, flow_id = f"erp-new-{tag}", f"create-{tag}"
    canvas_api.create_flow(erp_flow(flow_id, connection))  # names a connection the workspace lacks
    canvas.open(flow_id)
    canvas.node("erp").click()
    expect(page.locator("[data-testid=field-connection-missing]")).to_be_visible()
    with page.expect_popup() as opened:
        page.click("[data-testid=field-connection-create]")
    tab = opened.value
    expect(tab.locator("[data-testid=conn-name]")).to_have_value(connection)  # the dialog open for that name
    tab.select_option("[data-testid=conn-system]", "erp")
    tab.fill("[data-testid=conn-base_url]", f"{live_server.sandbox_url}/erp/api")
    try:
        # saved: the tab closes itself. Wait on the close from before the click: a fast save closes
        # the tab before a wait begun after the click is listening, and that wait then never ends
        with tab.expect_event("close"):
            tab.click("[data-testid=conn-save]")
    except PlaywrightTimeout:  # say what the tab showed
        raise AssertionError(f"the tab did not close after Save: {tab.url}, errors shown: "
                             f"{tab.locator('.banner.error').all_inner_texts()}, connection stored: "
                             f"{canvas_api.call('GET', '/connections')}") from None
    page.bring_to_front()
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # what the window gets as the user comes back
    expect(page.locator("[data-testid=field-connection-missing]")).to_have_count(0)
    expect(page.locator("[data-testid=field-connection]")).to_have_value(connection)
    assert canvas_api.call("GET", f"/connections/{connection}")["system"] == "erp"
