"""Acceptance 1 of issue 14, the exception workbench in the browser: the bundled order release deployed against the
sandbox systems, its SKU cross-reference missing one SKU; 20 OMS orders of that SKU end as unknown_sku exceptions,
which /exceptions shows as one root cause; the SKU is added to the lookup table from the workbench, everything
matching is retried, the retries succeed and resolve the exceptions, and the ERP sandbox holds exactly 20 new
orders, one per OMS order. A dry run before the retry shows the fix per record and writes nothing."""
from __future__ import annotations

import json

from playwright.sync_api import expect

from runtime import lookups
from support import wait_for
from support.browser import call

ORDERS = 20
SKU = "hw-87462-d"  # in the OMS catalogue and the ERP; the workspace's sku_xref lacks it until the fix



def test_twenty_unknown_sku_orders_are_one_root_cause_fixed_in_the_lookup_and_retried_into_twenty_erp_orders(
        page, live_server, templated_workspace, out_dir, live_login):
    ws, base, sandbox = templated_workspace, str(live_server), live_server.sandbox_url
    rt = live_server.runtime
    assert lookups.remove(rt, ws, "sku_xref", SKU) == 1

    def api(path: str, method: str = "GET", body=None):
        return call(f"{base}/api/v1{path}", method, body, workspace=ws, login=live_login)

    def erp_orders(po: str) -> list:
        return call(f"{sandbox}/erp/api/sales-orders?externalDocumentNo={po}")["value"]

    # 1. twenty orders with the SKU the cross-reference does not know
    pos = [str(call(f"{sandbox}/oms/api/orders", "POST", {"order": {
        "customer": {"id": 7001}, "line_items": [{"sku": SKU, "quantity": 1}]}})["order"]["id"]) for _ in range(ORDERS)]
    wait_for(lambda: len(api("/exceptions?class=unknown_sku&flow_id=order-release")["exceptions"]) == ORDERS,
             timeout=60)
    assert all(erp_orders(po) == [] for po in pos)

    # 2. one root cause of twenty
    page.goto(f"{base}/exceptions?workspace={ws}")
    groups = page.locator("[data-testid=exception-group]")
    expect(groups).to_have_count(1)
    expect(groups.first.locator("[data-testid=group-count]")).to_have_text(str(ORDERS))
    expect(groups.first.locator("[data-testid=group-cause]")).to_contain_text(f"'{SKU}' is not in lookup table")
    expect(page.locator("[data-testid=exception-row]")).to_have_count(ORDERS)
    page.screenshot(path=str(out_dir / "1-grouped.png"))

    # 3. the fix, from the workbench: the SKU goes into the lookup table
    groups.first.locator("[data-testid=group-show]").click()
    fix = page.locator("[data-testid=lookup-fix]")
    expect(fix.locator("[data-testid=fix-key]")).to_have_value(SKU)
    fix.locator("[data-testid=fix-value]").fill(SKU.upper())
    fix.locator("[data-testid=fix-save]").click()
    expect(page.locator("[data-testid=exception-notice]")).to_contain_text("sku_xref")
    assert lookups.rows(rt, ws, "sku_xref")[SKU] == SKU.upper()

    # a dry run first: per record the lookup's output before and after the fix, stopping before the ERP is written
    groups.first.locator("[data-testid=group-dry-run]").click()
    records = page.locator("[data-testid=dry-record]")
    expect(records).to_have_count(ORDERS)
    expect(records.first).to_have_attribute("data-outcome", "reaches_side_effect")
    expect(records.first.locator("[data-testid=dry-step][data-node-id=sku_xref]")).to_have_attribute(
        "data-changed", "true")
    expect(records.first.locator("[data-testid=dry-step][data-node-id=erp_order]")).to_have_attribute(
        "data-status", "stopped")
    assert all(erp_orders(po) == [] for po in pos)  # nothing was sent

    # 4. retry all matching: they succeed and resolve
    groups.first.locator("[data-testid=group-retry]").click()
    expect(page.locator("[data-testid=exception-notice]")).to_contain_text(f"Retrying {ORDERS} run(s)")
    expect(page.locator("[data-testid=exceptions-empty]")).to_be_visible(timeout=60_000)
    expect(page.locator("[data-testid=groups-empty]")).to_be_visible()
    page.select_option("[data-testid=filter-status]", "resolved")
    rows = page.locator("[data-testid=exception-row]")
    expect(rows).to_have_count(ORDERS)
    expect(rows.first.locator("[data-testid=exception-state]")).to_contain_text("resolved (retried)")
    page.screenshot(path=str(out_dir / "2-resolved.png"))
    resolved = api("/exceptions?status=resolved&limit=200")["exceptions"]
    assert len(resolved) == ORDERS
    assert {(e["resolution"], e["retry"]["status"]) for e in resolved} == {("retried", "succeeded")}

    # 5. exactly twenty new ERP orders: one per OMS order
    assert [len(erp_orders(po)) for po in pos] == [1] * ORDERS
    assert {line["itemNo"] for po in pos for line in erp_orders(po)[0]["lines"]} == {SKU.upper()}


def test_an_erp_rejection_reads_as_the_erps_own_code_and_field_with_the_request_sent(page, live_server,
                                                                                    templated_workspace, out_dir,
                                                                                    live_login):
    ws, base, sandbox = templated_workspace, str(live_server), live_server.sandbox_url
    lookups.put(live_server.runtime, ws, "sku_xref", SKU, "IPOD2008GREEN")  # an item the ERP does not have

    def api(path: str):
        return call(f"{base}/api/v1{path}", workspace=ws, login=live_login)

    call(f"{sandbox}/oms/api/orders", "POST", {"order": {"customer": {"id": 7001},
                                                         "line_items": [{"sku": SKU, "quantity": 1}]}})
    [run] = wait_for(lambda: [r for r in api("/runs?flow_id=order-release")["runs"]
                              if r["status"] in ("succeeded", "failed")], timeout=30)
    step = next(s for s in api(f"/runs/{run['id']}")["run"]["steps"] if s["node_id"] == "erp_order")
    assert step["error"]["message"].startswith("item_not_found: ") and "IPOD2008GREEN" in step["error"]["message"]

    page.goto(f"{base}/runs/{run['id']}?workspace={ws}")
    page.click("[data-testid=step-row][data-node-id=erp_order]")
    expect(page.locator("[data-testid=step-error-message]")).to_contain_text("item_not_found")
    expect(page.locator("[data-testid=remote-code]")).to_have_text("item_not_found")
    expect(page.locator("[data-testid=remote-error]")).to_contain_text("IPOD2008GREEN")
    sent = page.locator("[data-testid=remote-request]")
    expect(sent).to_contain_text("POST")
    request = json.loads(sent.get_attribute("data-json"))
    assert request["url"].endswith("/erp/api/sales-orders") and request["headers"]["Idempotency-Key"] != "***"
    assert [line["itemNo"] for line in request["body"]["lines"]] == ["IPOD2008GREEN"]
    expect(page.locator("[data-testid=remote-response]")).to_contain_text("item_not_found")
    page.screenshot(path=str(out_dir / "3-erp-rejection.png"))


def test_a_partner_admin_sees_every_customers_exceptions_and_resolves_one_in_its_own_workspace(page, live_server,
                                                                                             out_dir, live_login):
    """Issue 14: the partner-wide workbench: a workspace column and filter over the partner's customers, actions
    made in each exception's own workspace; another partner's customer never shows."""
    import uuid

    from runtime import accounts, intake
    from runtime.models import Run
    from support import identity
    from support.deploys import deploy
    from support.flowdocs import done, edge

    rt, base, tag = live_server.runtime, str(live_server), uuid.uuid4().hex[:8]
    doc = {"schema": "crossdock.flow/1", "id": f"qty-{tag}", "name": "Quantity check",
           "nodes": [{"id": "start", "type": "event.manual", "config": {}},
                     {"id": "map", "type": "transform.map", "config": {"expression": "$error('bad quantity')"}},
                     done()],
           "edges": [edge(1, "start", "map"), edge(2, "map", "done")]}
    first, second, stranger = f"pa{tag}", f"pb{tag}", f"px{tag}"
    rt.ensure_workspace(first, f"First {tag}")  # customers of the admin's partner
    rt.ensure_workspace(second, f"Second {tag}")
    rt.ensure_workspace(stranger, partner_id=identity.make_partner(rt))  # another partner's customer
    accounts.forget()  # the admin's kept identity learns of the new workspaces
    runs = []
    for ws, n in ((first, 2), (second, 1), (stranger, 1)):
        deploy(rt, ws, doc)
        runs += [(ws, intake.start_manual(rt, ws, doc["id"], {"po": f"{ws}-{i}"}).id) for i in range(n)]

    def api(path: str, ws: str | None = None):
        return call(f"{base}/api/v1{path}", workspace=ws, login=live_login)
    def ended(run_id: int) -> bool:
        with rt.sessions() as s:
            return s.get(Run, run_id).status == "failed"
    for _ws, run_id in runs:  # the stranger's too (as the runtime sees it): its exception exists when the page looks
        wait_for(lambda: ended(run_id))

    page.goto(f"{base}/exceptions")
    page.select_option("[data-testid=filter-scope]", "partner")
    page.fill("[data-testid=filter-flow]", doc["id"])
    rows = page.locator("[data-testid=exception-row]")
    expect(rows).to_have_count(3)
    assert sorted(rows.nth(i).get_attribute("data-workspace") for i in range(3)) == sorted([first, first, second])
    expect(page.locator("[data-testid=exception-workspace]")).to_have_count(3)
    groups = page.locator("[data-testid=exception-group]")
    expect(groups).to_have_count(2)  # one root cause per workspace: a retry or fix is made in each
    page.screenshot(path=str(out_dir / "1-all-customers.png"))

    page.select_option("[data-testid=filter-workspace]", second)
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-workspace", second)
    expect(page.locator("[data-testid=exception-workspace]")).to_have_text(second)
    assert [o for o in page.eval_on_selector_all("[data-testid=filter-workspace] option", "os => os.map(o => o.value)")
            if o == stranger] == []

    # resolve it: made in its own workspace (not the page's)
    rows.first.locator("input[type=checkbox]").check()
    page.click("[data-testid=resolve-selected]")
    expect(page.locator("[data-testid=exception-notice]")).to_have_text("Resolved 1")
    expect(page.locator("[data-testid=exceptions-empty]")).to_be_visible()
    [theirs] = api(f"/exceptions?status=resolved&flow_id={doc['id']}", second)["exceptions"]
    assert (theirs["workspace"], theirs["resolution"]) == (second, "manual")
    assert len(api(f"/exceptions?flow_id={doc['id']}", first)["exceptions"]) == 2
    page.screenshot(path=str(out_dir / "2-resolved-in-its-workspace.png"))


def test_each_filter_of_the_workbench_narrows_the_page(page, live_server, out_dir, live_login):
    """Issue 14's filters on the page: error class, flow, business key, assignee (and the unassigned) and age."""
    import uuid

    from runtime import accounts, egress, intake
    from support.deploys import deploy
    from support.flowdocs import done, edge

    rt, base, tag = live_server.runtime, str(live_server), uuid.uuid4().hex[:8]
    ws = f"pf{tag}"
    rt.ensure_workspace(ws)
    accounts.forget()
    egress.allow_origin(rt, ws, "http://127.0.0.1:9")  # nothing listens there: a connection error

    def flow(flow_id: str, node: dict) -> dict:
        return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id, "settings": {"business_key": "po"},
                "nodes": [{"id": "start", "type": "event.manual", "config": {}}, {**node, "id": "step"}, done()],
                "edges": [edge(1, "start", "step"), edge(2, "step", "done")]}
    mapping, sending = f"qty-{tag}", f"send-{tag}"
    deploy(rt, ws, flow(mapping, {"type": "transform.map", "config": {"expression": "$error('bad quantity')"}}))
    deploy(rt, ws, flow(sending, {"type": "connector.http", "config": {
        "method": "POST", "url": "http://127.0.0.1:9/x", "retry": {"max_attempts": 1, "backoff_s": 0}}}))
    for flow_id, po in ((mapping, "A-1"), (mapping, "A-2"), (sending, "B-1")):
        intake.start_manual(rt, ws, flow_id, {"po": f"{po}-{tag}"})

    def api(path: str, method: str = "GET", body=None):
        return call(f"{base}/api/v1{path}", method, body, workspace=ws, login=live_login)
    listed = wait_for(lambda: (lambda xs: xs if len(xs) == 3 else None)(api("/exceptions")["exceptions"]))
    [first] = [x for x in listed if x["business_key"] == f"A-1-{tag}"]
    api(f"/exceptions/{first['id']}/assign", "POST", {"assignee": "dana"})

    page.goto(f"{base}/exceptions?workspace={ws}")

    def shows(*expected: str) -> None:
        """Until the table lists exactly these business keys (read at once: the table is redrawn per answer)."""
        def keys():
            return sorted(page.eval_on_selector_all("[data-testid=exception-row]",
                                                    "rs => rs.map(r => r.children[4].innerText)"))
        wait_for(lambda: keys() == sorted(f"{k}-{tag}" for k in expected), timeout=10)

    shows("A-1", "A-2", "B-1")
    page.select_option("[data-testid=filter-class]", "connection")
    shows("B-1")
    page.select_option("[data-testid=filter-class]", "mapping_error")
    shows("A-1", "A-2")
    page.select_option("[data-testid=filter-class]", "")
    page.fill("[data-testid=filter-flow]", sending)
    shows("B-1")
    page.fill("[data-testid=filter-flow]", "")
    page.fill("[data-testid=filter-key]", f"A-2-{tag}")
    shows("A-2")
    page.fill("[data-testid=filter-key]", "")
    page.fill("[data-testid=filter-assignee]", "dana")
    shows("A-1")
    page.fill("[data-testid=filter-assignee]", "-")  # the unassigned
    shows("A-2", "B-1")
    page.fill("[data-testid=filter-assignee]", "")
    page.select_option("[data-testid=filter-age]", "older than a day")
    expect(page.locator("[data-testid=exceptions-empty]")).to_be_visible()
    page.select_option("[data-testid=filter-age]", "last hour")
    shows("A-1", "A-2", "B-1")
    page.screenshot(path=str(out_dir / "filters.png"))
