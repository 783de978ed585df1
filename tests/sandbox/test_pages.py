"""Record pages: an index linking the four systems, one auto-refreshing page each, values escaped."""
from __future__ import annotations

import pytest


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
