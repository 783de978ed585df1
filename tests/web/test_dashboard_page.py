"""Issue 14's dashboard in the browser: the bundled order release and shipment confirmation run against the sandbox
systems (one order released and shipped, one failing on an SKU the cross-reference lacks); /dashboard draws its
runs chart, shows the figures the API gives (runs, success rate, open exceptions) over each window chosen, and the
KPI tiles (cycle time, accuracy, backorder rate) with values; the flow list shows a red dot with the failure count
for the failing flow and a green one for the healthy flow. A partner admin's "All customers" ranks the partner's
failing workspace above its healthy one, and opens that workspace's dashboard, which counts a new run live."""
from __future__ import annotations

import uuid

from playwright.sync_api import expect

from designer.access import SESSION_COOKIE
from runtime import lookups, tenancy
from support import wait_for
from support.browser import AdminSession, browser_page, call
from support.identity import PASSWORD, make_partner, make_user

SKU = "hw-87462-d"  # in the OMS catalogue and the ERP; removed from the workspace's sku_xref to make a release fail
RED, GREEN = "rgb(220, 38, 38)", "rgb(22, 163, 74)"

# how many of the chart canvas's pixels are of each bar colour (failed is drawn red over the green total)
COLOURED_PIXELS = """el => {
  const c = el.querySelector("canvas");
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let red = 0, green = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] < 128) continue;
    if (d[i] > 180 && d[i + 1] < 110 && d[i + 2] < 110) red++;
    else if (d[i + 1] > 140 && d[i] < 150 && d[i + 2] < 170) green++;
  }
  return {red, green, width: c.width, height: c.height};
}"""


def ended(api, run_id: int) -> dict:
    return wait_for(lambda: (r := api(f"/runs/{run_id}")["run"])["status"] in ("succeeded", "failed") and r, timeout=30)


def expect_figures(page, dash: dict) -> None:
    """The page's run tiles hold the API's figures."""
    runs = dash["runs"]
    expect(page.locator("[data-testid=dashboard]")).to_have_attribute("data-window", str(dash["window_s"]))
    for testid, value in (("runs-total", runs["total"]), ("runs-succeeded", runs["succeeded"]),
                          ("runs-failed", runs["failed"]), ("exceptions-open", dash["exceptions"]["open"])):
        expect(page.locator(f"[data-testid={testid}]")).to_have_attribute("data-value", str(value))
        expect(page.locator(f"[data-testid={testid}] b")).to_have_text(f"{value:,}")
    rate = page.locator("[data-testid=success-rate]")
    assert float(rate.get_attribute("data-value")) == runs["success_rate"]
    expect(rate.locator("b")).to_have_text(f"{runs['success_rate'] * 100:.1f}%")


def test_the_dashboard_shows_the_apis_figures_its_chart_and_kpis_and_the_flow_list_its_health(
        page, live_server, templated_workspace, out_dir, live_login):
    ws, base, sandbox = templated_workspace, str(live_server), live_server.sandbox_url

    def api(path: str, method: str = "GET", body=None):
        return call(f"{base}/api/v1{path}", method, body, workspace=ws, login=live_login)

    # an order released to the ERP and WMS, shipped, its confirmation run: facts for the KPIs
    po = str(call(f"{sandbox}/oms/api/orders", "POST", {"order": {
        "customer": {"id": 7001}, "line_items": [{"sku": "hw-20620-c", "quantity": 4}]}})["order"]["id"])
    [erp] = wait_for(lambda: call(f"{sandbox}/erp/api/sales-orders?externalDocumentNo={po}")["value"], timeout=30)
    released = wait_for(lambda: api("/runs?flow_id=order-release")["runs"], timeout=30)[0]
    assert ended(api, released["id"])["status"] == "succeeded"
    [wms] = wait_for(lambda: call(f"{sandbox}/wms/api/shipping-orders?orderNumber={erp['no']}")["data"], timeout=30)
    shipment = call(f"{sandbox}/wms/api/shipping-orders/{wms['id']}/ship-confirm", "POST", {"parcels": [
        {"trackingNumber": f"1Z{uuid.uuid4().hex[:10].upper()}", "weightKg": 1.1,
         "lines": [{"lineNumber": 10000, "qty": 4}]}]})["data"]
    confirmed = api("/flows/shipment-confirmation/runs", "POST", {"input": shipment})["run"]
    assert ended(api, confirmed["id"])["status"] == "succeeded"
    # then an order the release fails on: an open unknown_sku exception
    assert lookups.remove(live_server.runtime, ws, "sku_xref", SKU) == 1
    call(f"{sandbox}/oms/api/orders", "POST", {"order": {"customer": {"id": 7001},
                                                         "line_items": [{"sku": SKU, "quantity": 1}]}})
    wait_for(lambda: api("/exceptions?flow_id=order-release")["exceptions"], timeout=30)
    wait_for(lambda: [r["status"] for r in api("/runs?flow_id=order-release")["runs"]] == ["failed", "succeeded"],
             timeout=30)

    page.goto(f"{base}/dashboard?workspace={ws}")
    dash = api("/dashboard?window_s=3600")
    assert dash["runs"]["total"] >= 3 and (dash["runs"]["failed"], dash["exceptions"]["open"]) == (1, 1)
    expect_figures(page, dash)
    expect(page.locator("[data-testid=live-state]")).to_have_attribute("data-connected", "true")

    # the chart: a uPlot canvas with green bars (succeeded) and red ones (failed), over the API's runs
    chart = page.locator("[data-testid=runs-chart]")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart).to_have_attribute("data-runs", str(sum(b["succeeded"] + b["failed"] for b in dash["runs"]["per_minute"])))
    expect(chart).to_have_attribute("data-buckets", str(len(dash["runs"]["per_minute"])))
    pixels = chart.evaluate(COLOURED_PIXELS)
    assert pixels["width"] > 300 and pixels["red"] > 20 and pixels["green"] > 20, pixels

    # per flow: the release with its failure, its nodes' latencies a click away
    release = page.locator("[data-testid=flow-figure][data-flow-id=order-release]")
    expect(release).to_have_attribute("data-failed", "1")
    expect(release).to_have_attribute("data-runs", "2")
    release.locator("[data-testid=flow-nodes-toggle]").click()
    flow = next(f for f in dash["flows"] if f["flow_id"] == "order-release")
    expect(page.locator("[data-testid=node-figure]")).to_have_count(len(flow["nodes"]))
    expect(page.locator("[data-testid=exception-class][data-class=unknown_sku]")).to_have_attribute("data-count", "1")

    # the KPIs over the window: tiles with values, equal to the API's; the per-day and per-warehouse tables
    for key in ("order_cycle_time_h", "fulfillment_accuracy", "backorder_rate"):
        assert dash["kpis"][key] is not None, (key, dash["kpis"])
        tile = page.locator(f"[data-testid=kpi-{key.replace('_', '-')}]")
        expect(tile.locator("b")).not_to_have_text("–")
        assert float(tile.get_attribute("data-value")) == dash["kpis"][key]
    today = dash["generated_at"][:10]
    expect(page.locator(f"[data-testid=kpi-by-day-row][data-key='{today}']")).to_have_count(1)
    expect(page.locator("[data-testid=kpi-by-warehouse-row]").first).to_be_visible()
    page.screenshot(path=str(out_dir / "1-dashboard.png"), full_page=True)

    # other windows: minutes up to 6 hours, hours beyond; the figures follow
    page.select_option("[data-testid=dashboard-window]", "900")
    quarter = api("/dashboard?window_s=900")
    expect_figures(page, quarter)
    expect(chart).to_have_attribute("data-buckets", str(len(quarter["runs"]["per_minute"])))
    page.select_option("[data-testid=dashboard-window]", "604800")
    week = api("/dashboard?window_s=604800")
    assert week["bucket_s"] == 3600
    expect_figures(page, week)
    expect(chart).to_have_attribute("data-buckets", str(len(week["runs"]["per_minute"])))
    expect(page.get_by_text("Runs per hour")).to_be_visible()
    assert "window_s=604800" in page.url and f"workspace={ws}" in page.url
    page.screenshot(path=str(out_dir / "2-week.png"), full_page=True)

    # a class of open exceptions opens the workbench filtered to it
    page.click("[data-testid=exception-class-unknown_sku]")
    expect(page.locator("[data-testid=filter-class]")).to_have_value("unknown_sku")
    assert "class=unknown_sku" in page.url and f"workspace={ws}" in page.url

    # the flow list: a red dot and the failure count for the release, a green dot for the confirmation
    page.goto(f"{base}/flows?workspace={ws}")
    failing = page.locator("tr[data-flow-id=order-release] [data-testid=flow-health]")
    expect(failing).to_have_attribute("data-status", "failing")
    expect(failing.locator("[data-testid=failed-count]")).to_have_text("1 failed")
    healthy = page.locator("tr[data-flow-id=shipment-confirmation] [data-testid=flow-health]")
    expect(healthy).to_have_attribute("data-status", "ok")
    expect(healthy.locator("[data-testid=failed-count]")).to_have_count(0)
    colour = "el => getComputedStyle(el).backgroundColor"
    assert failing.locator("[data-testid=health-dot]").evaluate(colour) == RED
    assert healthy.locator("[data-testid=health-dot]").evaluate(colour) == GREEN
    page.screenshot(path=str(out_dir / "3-flow-list.png"))


SOMETIMES_FAILING = {
    "schema": "crossdock.flow/1", "id": "check", "name": "Credit check",
    "nodes": [{"id": "start", "type": "event.manual", "config": {}},
              {"id": "check", "type": "transform.map", "config": {"expression": "ok ? $ : $error('credit hold')"}},
              {"id": "done", "type": "control.discard", "config": {"reason": "checked"}}],
    "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "check", "target_port": "in"},
              {"id": "e2", "source": "check", "source_port": "out", "target": "done", "target_port": "in"}]}


def test_a_partner_admin_sees_its_failing_customer_ranked_above_its_healthy_one(chromium, live_server, out_dir):
    rt, base = live_server.runtime, str(live_server)
    partner = make_partner(rt)
    healthy, failing = f"fine-{uuid.uuid4().hex[:6]}", f"sore-{uuid.uuid4().hex[:6]}"
    tenancy.create(rt, partner, healthy, "Healthy Customer")
    tenancy.create(rt, partner, failing, "Failing Customer")
    email = f"admin-{uuid.uuid4().hex[:6]}@{partner}.test"
    make_user(rt, partner, "admin", email=email)
    admin = AdminSession(base, email, PASSWORD)

    def in_ws(ws: str):
        def api(path: str, method: str = "GET", body=None):
            r = admin.request(method, f"{base}/api/v1{path}", json=body, timeout=10,
                              headers={"X-Crossdock-Workspace": ws})
            assert r.ok, (path, r.status_code, r.text)
            return r.json() if r.content else None
        return api

    for ws, outcomes in ((healthy, [True, True]), (failing, [True, False, False])):
        api = in_ws(ws)
        api("/flows", "POST", SOMETIMES_FAILING)
        api("/flows/check/deploy", "POST", {})
        runs = [api("/flows/check/runs", "POST", {"input": {"ok": ok}})["run"]["id"] for ok in outcomes]
        assert [ended(api, r)["status"] for r in runs] == ["succeeded" if ok else "failed" for ok in outcomes]

    ranked = admin.call("GET", "/partner/dashboard?window_s=3600")["customers"]
    assert [c["workspace"] for c in ranked] == [failing, healthy]  # this partner's only, worst first
    cookies = [{"name": SESSION_COOKIE, "value": admin.cookies[SESSION_COOKIE], "url": base}]
    with browser_page(chromium, out_dir, cookies) as page:
        page.goto(f"{base}/dashboard?workspace={healthy}")
        page.click("[data-testid=tab-customers]")
        rows = page.locator("[data-testid=customer-row]")
        expect(rows).to_have_count(2)
        assert [rows.nth(i).get_attribute("data-workspace") for i in range(2)] == [failing, healthy]
        assert [float(rows.nth(i).get_attribute("data-health")) for i in range(2)] == [c["health"] for c in ranked]
        assert ranked[0]["health"] < ranked[1]["health"]
        expect(rows.first.locator("[data-testid=customer-link]")).to_have_text("Failing Customer")
        assert "view=customers" in page.url
        page.screenshot(path=str(out_dir / "1-customers.png"))

        # a customer opens its own dashboard: that workspace's figures
        rows.first.locator("[data-testid=customer-link]").click()
        page.wait_for_url(f"**/dashboard?workspace={failing}*")
        expect(page.locator("[data-testid=dashboard]")).to_have_attribute("data-view", "workspace")
        expect(page.locator("[data-testid=runs-failed]")).to_have_attribute("data-value", "2")
        expect(page.locator("[data-testid=runs-total]")).to_have_attribute("data-value", "3")
        expect(page.locator("[data-testid=workspace-switch]")).to_have_value(failing)
        page.screenshot(path=str(out_dir / "2-failing-customer.png"))

        # live: a run that ends while the page is open is counted without a reload (one batch of events, <= 5 s)
        expect(page.locator("[data-testid=live-state]")).to_have_attribute("data-connected", "true")
        api = in_ws(failing)
        assert ended(api, api("/flows/check/runs", "POST", {"input": {"ok": True}})["run"]["id"])["status"] == "succeeded"
        expect(page.locator("[data-testid=runs-total]")).to_have_attribute("data-value", "4", timeout=15_000)
        expect(page.locator("[data-testid=runs-succeeded]")).to_have_attribute("data-value", "2")
