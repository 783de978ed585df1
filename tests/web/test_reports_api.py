"""GET /api/v1/reports/sla (issue 14): one month's SLA report of a workspace as JSON, CSV (read back with the csv
module, the same figures) and PDF (fpdf2's output, the partner's brand in it); bad months and formats are 400
naming the field; a partner admin reads another workspace of its partner, nobody reads another partner's."""
from __future__ import annotations

import csv
import io
import re
import uuid
import zlib

import pytest

from support import identity
from support.api import deploy, finished
from support.flowdocs import http_sink

from tests.designer.test_trading_partners_api import documented

BRAND = "Acme Logistics Cloud"


@pytest.fixture
def month(client, workspace, http_target):
    """Three webhook runs to the recorder: 200, 500 (no retry: a dead letter), 200; the month they ran in."""
    assert client.put("/api/v1/partner", json={"branding": {"product_name": BRAND}}).status_code == 200
    http_target.script = [(200, {"ok": True}, {}), (500, {"error": "down"}, {}), (200, {"ok": True}, {})]
    deploy(client, http_sink("to-erp", http_target.url, retry={"max_attempts": 1}))
    runs = []
    for i in range(3):
        r = client.post(f"/hooks/{workspace}/orders", json={"order": {"number": f"PO-{i}", "lines": [{"qty": 1}]}})
        assert r.status_code == 202, r.json
        runs.append(finished(client, r.json["run_id"]))  # one after the other: the script's order holds
    assert [r["status"] for r in runs] == ["succeeded", "failed", "succeeded"]
    months = {r["created_at"][:7] for r in runs}
    assert len(months) == 1
    return months.pop()


def figures(text: str) -> dict[tuple[str, str, str], str]:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and list(rows[0]) == ["section", "name", "metric", "value"]
    return {(r["section"], r["name"], r["metric"]): r["value"] for r in rows}


def pdf_text(data: bytes) -> str:
    """The text drawing operators of every page stream of fpdf2's output (deflated), as one string. A
    decompressor object, not zlib.decompress: when a stream's last byte (of its checksum) is a CR, the
    pattern takes it for the line end before `endstream`, and decompress refused the stream then."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompressobj().decompress(raw).decode("latin-1"))
        except zlib.error:
            out.append(raw.decode("latin-1"))
    return "\n".join(out)


def test_json_csv_and_pdf_hold_the_same_figures(client, workspace, month, http_target):
    r = client.get(f"/api/v1/reports/sla?month={month}")
    assert r.status_code == 200, r.json
    documented(client, r, "/api/v1/reports/sla")
    report = r.json["report"]
    host = http_target.url.split("//", 1)[1]
    assert report["workspace"] == workspace and report["month"] == month and report["brand"] == BRAND
    assert (report["runs"]["total"], report["runs"]["succeeded"], report["runs"]["failed"]) == (3, 2, 1)
    [endpoint] = report["availability"]["endpoints"]
    assert (endpoint["endpoint"], endpoint["calls"], endpoint["unavailable"]) == (host, 3, 1)
    assert endpoint["availability"] == round(2 / 3, 6)
    assert report["availability"]["intake"] == {"webhook_runs": 3, "platform_faults": 0, "availability": 1.0}
    assert report["exceptions"]["opened"] == 1 and report["exceptions"]["by_class"] == {"5xx": 1}

    c = client.get(f"/api/v1/reports/sla?month={month}&format=csv")
    assert c.status_code == 200 and c.mimetype == "text/csv"
    assert c.headers["Content-Disposition"] == f'attachment; filename="sla-{workspace}-{month}.csv"'
    got = figures(c.get_data(as_text=True))
    assert got[("report", "", "brand")] == BRAND and got[("report", "", "workspace")] == workspace
    assert got[("runs", "all flows", "total")] == "3" and got[("runs", "all flows", "failed")] == "1"
    assert got[("availability", f"http: {host}", "calls")] == "3"
    assert float(got[("availability", f"http: {host}", "availability")]) == endpoint["availability"]
    assert got[("availability", f"http: {host}", "down_5xx")] == "1"
    assert got[("intake", "webhook intake", "webhook_runs")] == "3"
    assert got[("exceptions", "opened by class", "5xx")] == "1"
    assert got[("exceptions", "all", "resolve_median_s")] == ""  # none resolved: no figure, not a zero
    for name, value in report["kpis"].items():
        assert got[("kpis", "orders placed in the month", name)] == ("" if value is None else str(value))
    assert got[("definitions", "availability", "definition")] == report["definitions"]["availability"]

    p = client.get(f"/api/v1/reports/sla?month={month}&format=pdf")
    assert p.status_code == 200 and p.mimetype == "application/pdf"
    assert p.headers["Content-Disposition"] == f'attachment; filename="sla-{workspace}-{month}.pdf"'
    data = p.get_data()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = pdf_text(data)
    assert BRAND in text and f"SLA report {month}" in text and host in text
    assert "66.67 %" in text  # the endpoint's availability, as the JSON and CSV have it


@pytest.mark.parametrize("query, field", [("", "month"), ("month=2026-13", "month"), ("month=2026-1", "month"),
                                          ("month=nov", "month"), ("month=2026-11&format=xlsx", "format")])
def test_a_bad_month_or_format_is_400_naming_the_field(client, query, field):
    r = client.get(f"/api/v1/reports/sla?{query}")
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_argument"
    assert r.json["error"]["details"] == [{"field": field}]


def test_a_partner_admin_reads_its_customers_and_nobody_another_partners(client, rt, workspace, partner, month):
    other_ws = f"ws{uuid.uuid4().hex[:10]}"
    rt.ensure_workspace(other_ws, partner_id=partner)
    mine = client.get(f"/api/v1/reports/sla?month={month}&workspace={other_ws}")
    assert mine.status_code == 200 and mine.json["report"]["workspace"] == other_ws
    assert mine.json["report"]["runs"]["total"] == 0  # the first workspace's runs stay its own
    assert mine.json["report"]["brand"] == BRAND

    stranger_partner = identity.make_partner(rt)
    stranger_ws = f"ws{uuid.uuid4().hex[:10]}"
    rt.ensure_workspace(stranger_ws, partner_id=stranger_partner)
    stranger = identity.client_for(client.application, identity.make_user(rt, stranger_partner, "admin"), stranger_ws)
    assert stranger.get(f"/api/v1/reports/sla?month={month}").json["report"]["workspace"] == stranger_ws
    r = stranger.get(f"/api/v1/reports/sla?workspace={workspace}&month={month}&format=csv")
    assert r.status_code == 404 and r.json["error"] == {"code": "unknown_workspace", "message": f"no workspace "
                                                        f"{workspace!r}", "details": [{"field": "workspace"}]}
    r = stranger.get(f"/api/v1/reports/sla?month={month}&format=csv", headers={"X-Crossdock-Workspace": workspace})
    assert r.status_code == 404 and r.json["error"]["code"] == "unknown_workspace"

    viewer = identity.login_as(client, "viewer", workspace)
    assert viewer.get(f"/api/v1/reports/sla?month={month}").json["report"]["runs"]["total"] == 3
    r = viewer.get(f"/api/v1/reports/sla?month={month}&workspace={other_ws}")  # a customer it holds no role in
    assert r.status_code == 404 and r.json["error"]["details"] == [{"field": "workspace"}]
