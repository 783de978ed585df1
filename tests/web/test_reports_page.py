"""The reports page (/reports, issue 14): a partner admin picks a customer and a month, sees its SLA figures, and
downloads the CSV (read back with the csv module) and the PDF."""
from __future__ import annotations

import csv
import io
import uuid

from playwright.sync_api import expect

from support import wait_for
from support.browser import call

FLOW = {"schema": "crossdock.flow/1", "id": "reported", "name": "Reported",
        "nodes": [{"id": "start", "type": "event.manual", "config": {"sample": {}}},
                  {"id": "done", "type": "control.discard", "config": {"reason": "counted"}}],
        "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "done", "target_port": "in"}]}


def test_a_partner_admin_downloads_a_customers_csv_and_pdf(page, live_server, live_login, out_dir):
    rt, base = live_server.runtime, str(live_server)
    ws = f"rp{uuid.uuid4().hex[:8]}"
    rt.ensure_workspace(ws, name=f"Customer {ws}")

    def api(path: str, method: str = "GET", body=None):
        return call(f"{base}/api/v1{path}", method, body, workspace=ws, login=live_login)

    api("/flows", "POST", FLOW)
    api("/flows/reported/deploy", "POST", {})
    runs = [api("/flows/reported/runs", "POST", {"input": {"n": i}})["run"]["id"] for i in range(3)]
    for run_id in runs:
        wait_for(lambda: api(f"/runs/{run_id}")["run"]["status"] == "succeeded", timeout=30)
    month = api(f"/runs/{runs[0]}")["run"]["created_at"][:7]

    page.goto(f"{base}/reports")  # the admin's default workspace first, then the customer is picked
    page.locator("[data-testid=report-customer]").select_option(ws)
    page.locator("[data-testid=report-month]").fill(month)
    summary = page.locator(f"[data-testid=sla-summary][data-workspace={ws}]")
    expect(summary.locator("[data-testid=sla-runs]")).to_contain_text("3")
    expect(summary).to_contain_text(f"SLA report {month}")
    page.screenshot(path=str(out_dir / "1-report.png"))

    with page.expect_download() as got:
        page.click("[data-testid=report-csv]")
    download = got.value
    assert download.suggested_filename == f"sla-{ws}-{month}.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    figures = {(r["section"], r["name"], r["metric"]): r["value"] for r in rows}
    assert figures[("report", "", "workspace")] == ws and figures[("report", "", "month")] == month
    assert figures[("runs", "all flows", "total")] == "3" and figures[("runs", "all flows", "succeeded")] == "3"

    with page.expect_download() as got:
        page.click("[data-testid=report-pdf]")
    pdf = got.value
    assert pdf.suggested_filename == f"sla-{ws}-{month}.pdf"
    data = open(pdf.path(), "rb").read()
    assert data.startswith(b"%PDF-") and len(data) > 1000
