"""Record pages: a home page linking every system's page and API, one auto-refreshing page per system, a
read-only detail page per record with its fields and lines, values escaped."""
from __future__ import annotations

import re

import pytest

from sandbox import pages, store


def test_index_links_the_four_systems(sbx):
    html = sbx.get("/").get_data(as_text=True)
    for system in ("oms", "erp", "wms", "tms"):
        assert f'href="/{system}/"' in html


@pytest.mark.parametrize("system, expected", [
    ("oms", "hw-61610-c"), ("erp", "C-10977"), ("wms", "HW-61610-C"), ("tms", "ODFL")])
def test_each_page_shows_the_seeded_records_and_refreshes(sbx, system, expected):
    r = sbx.get(f"/{system}/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert expected in html and '<meta http-equiv="refresh"' in html


def test_new_records_appear_with_their_values_escaped(sbx):
    hostile = "<script>alert(1)</script>"
    r = sbx.post("/erp/api/sales-orders", json={"externalDocumentNo": hostile, "customerNo": "C-10442",
                                                "lines": [{"itemNo": "HW-20620-C", "quantity": 1}]})
    assert r.status_code == 201
    html = sbx.get("/erp/").get_data(as_text=True)
    assert "SO101001" in html
    assert hostile not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_page_shows_the_systems_clock(sbx):
    sbx.post("/wms/api/_clock", json={"now": "2026-11-26T13:59:00Z"})
    assert "2026-11-26T13:59:00Z" in sbx.get("/wms/").get_data(as_text=True)


def _links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_the_home_page_links_each_systems_page_and_api_collections_and_every_link_answers(sbx):
    html = sbx.get("/").get_data(as_text=True)
    links = _links(html)
    for path in ("/erp/api/sales-orders", "/oms/api/orders", "/wms/api/shipping-orders", "/tms/api/shipments"):
        assert f'<a href="{path}">{path}</a>' in html
    assert not any("/api/_" in link for link in links)  # test controls (the clock) are no collections
    for link in set(links):
        assert sbx.get(link).status_code == 200, link


def _make_records(sbx) -> dict[str, str]:
    """One record per system with a detail page; their detail paths."""
    oms = sbx.post("/oms/api/orders", json={"order": {"customer": {"id": 7001},
                                                      "line_items": [{"sku": "hw-20620-c", "quantity": 3}]}}).json
    erp = sbx.post("/erp/api/sales-orders", json={"externalDocumentNo": "PO-4711", "customerNo": "C-10442",
                                                  "lines": [{"itemNo": "HW-20620-C", "quantity": 7}]}).json
    wms = sbx.post("/wms/api/shipping-orders", json={"orderNumber": "SO101001", "shipTo": {"name": "Acme"},
                                                     "lines": [{"itemId": "HW-42614-B", "orderedQty": 12}]}).json
    tms = sbx.post("/tms/api/shipments", json={"reference": "SHP-9", "carrierCode": "UPSN", "serviceCode": "GND",
                                               "shipFrom": {"postalCode": "43217"}, "shipTo": {"postalCode": "60614"},
                                               "packages": [{"weightKg": 12.5}]}).json
    return {"oms": f"/oms/orders/{oms['order']['id']}", "erp": f"/erp/sales-orders/{erp['no']}",
            "wms": f"/wms/shipping-orders/{wms['data']['id']}", "tms": f"/tms/shipments/{tms['shipmentId']}"}


@pytest.mark.parametrize("system, fields, line", [
    ("oms", ["#1001", "purchasing@acme-hw.example"], ["hw-20620-c", "Flange lock nut M8, galvanized"]),
    ("erp", ["SO101001", "PO-4711", "C-10442", "Released", "Acme Hardware DC East"], ["HW-20620-C", "10000"]),
    ("wms", ["SO101001", "DC1"], ["HW-42614-B", "12"]),
    ("tms", ["SHP-9", "UPSN", "UPS Ground"], ["12.5"]),
])
def test_each_record_row_opens_a_detail_page_with_its_fields_and_lines(sbx, system, fields, line):
    path = _make_records(sbx)[system]
    assert f'href="{path}"' in sbx.get(f"/{system}/").get_data(as_text=True)
    r = sbx.get(path)
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    fields_part, _, lines_part = html.partition("<h2>Lines")
    for value in fields:
        assert f"<td>{value}</td>" in fields_part or value in fields_part, value
    assert lines_part and all(f"<td>{v}</td>" in lines_part for v in line), lines_part[:800]
    assert f'href="/{system}/"' in html  # back to the system's page


def test_a_detail_page_escapes_values_and_writes_nothing(sbx):
    hostile = '<img src=x onerror="alert(1)">'
    no = sbx.post("/erp/api/sales-orders", json={"externalDocumentNo": hostile, "customerNo": "C-10442",
                                                 "lines": [{"itemNo": "HW-20620-C", "quantity": 1}]}).json["no"]
    html = sbx.get(f"/erp/sales-orders/{no}").get_data(as_text=True)
    assert hostile not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert sbx.post(f"/erp/sales-orders/{no}").status_code == 405
    assert sbx.get(f"/erp/api/sales-orders/{no}").json["externalDocumentNo"] == hostile


@pytest.mark.parametrize("path", ["/erp/sales-orders/SO999999", "/oms/orders/5009999", "/oms/orders/not-a-number",
                                  "/wms/shipping-orders/WO1", "/tms/shipments/%3Cscript%3E"])
def test_an_unknown_record_is_a_404_page(sbx, path):
    r = sbx.get(path)
    assert r.status_code == 404 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "has no" in html and "<script>" not in html


def test_the_detail_routes_leave_the_apis_404s_alone(sbx):
    r = sbx.get("/erp/api/no-such-collection")
    assert r.status_code == 404 and r.mimetype == "application/json"


def test_every_system_in_the_store_gets_a_page_and_one_without_sections_shows_its_tables(sandbox_app, sbx):
    for system in store.SYSTEMS:
        assert sbx.get(f"/{system}/").status_code == 200, system
    no = sbx.post("/erp/api/sales-orders", json={"externalDocumentNo": "PO-1", "customerNo": "C-10442",
                                                 "lines": [{"itemNo": "HW-20620-C", "quantity": 1}]}).json["no"]
    with store.transaction(sandbox_app.extensions["sandbox.engine"]) as conn:
        sections = pages._tables(conn, "erp")  # what a system without sections of its own shows
    by_title = {s["title"]: s for s in sections}
    assert {"Customers", "Items", "Sales orders"} <= set(by_title)
    customers = by_title["Customers"]
    assert "doc" not in customers["headers"] and any("C-10977" in row for row in customers["rows"])
    assert not any(isinstance(v, pages.Link) for row in customers["rows"] for v in row)  # no detail page
    assert pages.Link(no, f"/erp/sales-orders/{no}") in by_title["Sales orders"]["rows"][0]


def test_the_second_erp_is_shown_by_its_tables_and_its_sales_orders_open_their_detail(sbx):
    r = sbx.put("/netsuite/api/record/v1/salesOrder/eid:WEB-1", json={
        "externalId": "WEB-1", "entity": {"externalId": "C-10442"}, "orderStatus": {"id": "B"},
        "item": {"items": [{"item": {"externalId": "HW-20620-C"}, "quantity": 100, "rate": 2.6}]}})
    assert r.status_code == 204
    html = sbx.get("/netsuite/").get_data(as_text=True)
    assert "<h2>Sales orders" in html and "<h2>Customers" in html and '<a href="/netsuite/sales-orders/7001">' in html
    detail = sbx.get("/netsuite/sales-orders/7001")
    assert detail.status_code == 200
    fields_part, _, lines_part = detail.get_data(as_text=True).partition("<h2>Lines")
    assert "<td>WEB-1</td>" in fields_part and "HW-20620-C" in lines_part and "<td>100</td>" in lines_part
    assert sbx.get("/netsuite/sales-orders/7999").status_code == 404
    assert sbx.get("/netsuite/orders/7001").status_code == 404  # a kind the system has no detail page for
