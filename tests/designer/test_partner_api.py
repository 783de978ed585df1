"""Partner API and the brand: a partner admin sets name, brand and limits, each field checked; the open
/branding answers the logged-in user's partner, else ?partner=, else Crossdock's own."""
from __future__ import annotations

import base64

import pytest

from runtime import partners
from support import identity

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()
BRAND = {"product_name": "FlowOps", "logo_url": PNG, "colors": {"primary": "#112233", "accent": "#AABBCC"},
         "support": {"email": "help@partner.example", "url": "https://partner.example/help"}}


def test_the_default_brand_is_crossdock(api):
    anonymous = api.application.test_client()
    assert anonymous.get("/api/v1/branding").json == {
        "product_name": "Crossdock", "logo_url": None, "colors": {"primary": None, "accent": None},
        "support": {"email": None, "url": None}, "white_label": False}
    assert anonymous.get("/api/v1/branding?partner=no-such-partner").json["product_name"] == "Crossdock"


def test_a_partner_brands_its_pages(api, partner, workspace):
    r = api.put("/api/v1/partner", json={"name": "Partner GmbH", "branding": BRAND,
                                         "limits": {"api_per_minute": 600, "hooks_per_minute": 1200}})
    assert r.status_code == 200, r.json
    assert r.json == {"id": partner, "name": "Partner GmbH",
                      "branding": {**BRAND, "colors": {"primary": "#112233", "accent": "#aabbcc"}},
                      "limits": {"api_per_minute": 600, "hooks_per_minute": 1200}}
    assert api.get("/api/v1/partner").json == r.json
    brand = {"product_name": "FlowOps", "logo_url": PNG, "colors": {"primary": "#112233", "accent": "#aabbcc"},
             "support": {"email": "help@partner.example", "url": "https://partner.example/help"}, "white_label": True}
    assert api.get("/api/v1/branding").json == brand  # the logged-in user's partner
    viewer = identity.login_as(api, "viewer", workspace)
    assert viewer.get("/api/v1/branding").json == brand
    anonymous = api.application.test_client()
    assert anonymous.get(f"/api/v1/branding?partner={partner}").json == brand  # the login page of the partner
    assert anonymous.get("/api/v1/branding").json["product_name"] == "Crossdock"


def test_a_partial_brand_keeps_crossdocks_defaults_for_the_rest(api):
    assert api.put("/api/v1/partner", json={"branding": {"colors": {"primary": "#000000"}}}).status_code == 200
    brand = api.get("/api/v1/branding").json
    assert brand["product_name"] == "Crossdock" and brand["white_label"] is False
    assert brand["colors"] == {"primary": "#000000", "accent": None}
    assert api.put("/api/v1/partner", json={"branding": None}).json["branding"] == {}


def test_an_https_logo(api):
    url = "https://cdn.partner.example/logo.svg"
    assert api.put("/api/v1/partner", json={"branding": {"logo_url": url}}).json["branding"]["logo_url"] == url


@pytest.mark.parametrize("body, field", [
    ({"branding": {"product_name": "x" * 61}}, "branding.product_name"),
    ({"branding": {"product_name": ""}}, "branding.product_name"),
    ({"branding": {"product_name": "two\nlines"}}, "branding.product_name"),
    ({"branding": {"logo_url": "http://insecure.example/logo.png"}}, "branding.logo_url"),
    ({"branding": {"logo_url": "javascript:alert(1)"}}, "branding.logo_url"),
    ({"branding": {"logo_url": "data:text/html;base64,PHNjcmlwdD4="}}, "branding.logo_url"),
    ({"branding": {"logo_url": "data:image/png;base64,@@@"}}, "branding.logo_url"),
    ({"branding": {"logo_url": "data:image/png;base64," + "A" * 210_000}}, "branding.logo_url"),
    ({"branding": {"logo_url": "https://x.example/a\" onerror=\"x"}}, "branding.logo_url"),
    ({"branding": {"colors": {"primary": "red"}}}, "branding.colors.primary"),
    ({"branding": {"colors": {"accent": "#12345"}}}, "branding.colors.accent"),
    ({"branding": {"colors": {"text": "#123456"}}}, "branding.colors.text"),
    ({"branding": {"support": {"email": "not an address"}}}, "branding.support.email"),
    ({"branding": {"support": {"url": "ftp://x.example"}}}, "branding.support.url"),
    ({"branding": {"font": "Comic Sans"}}, "branding.font"),
    ({"branding": "FlowOps"}, "branding"),
    ({"limits": {"api_per_minute": 0}}, "limits.api_per_minute"),
    ({"limits": {"hooks_per_minute": 1.5}}, "limits.hooks_per_minute"),
    ({"limits": {"hooks_per_minute": True}}, "limits.hooks_per_minute"),
    ({"limits": {"other": 5}}, "limits.other"),
    ({"name": ""}, "name"),
    ({"id": "other"}, "id"),
])
def test_bad_partner_fields(api, body, field):
    before = api.get("/api/v1/partner").json
    r = api.put("/api/v1/partner", json=body)
    assert r.status_code == 400 and r.json["error"]["details"] == [{"field": field}], r.json
    assert api.get("/api/v1/partner").json == before


def test_only_a_partner_admin_reads_or_changes_the_partner(api, workspace):
    consultant = identity.login_as(api, "consultant", workspace)
    assert consultant.get("/api/v1/partner").status_code == 403
    assert consultant.put("/api/v1/partner", json={"name": "x"}).status_code == 403


def test_each_partner_sees_its_own(api, store, partner):
    other = identity.make_partner(store)
    theirs = identity.client_for(api.application, identity.make_user(store, other, "admin"))
    assert theirs.put("/api/v1/partner", json={"branding": {"product_name": "Theirs"}}).status_code == 200
    assert api.get("/api/v1/partner").json["id"] == partner
    assert "Theirs" not in api.get("/api/v1/partner").get_data(as_text=True)
    assert api.get("/api/v1/branding").json["product_name"] == "Crossdock"


def test_new_limits_apply_at_once_in_the_process_that_saved_them(api, store, partner):
    assert partners.limits_of(store, partner) == {}  # kept by this process now
    assert api.put("/api/v1/partner", json={"limits": {"api_per_minute": 42}}).status_code == 200
    assert partners.limits_of(store, partner) == {"api_per_minute": 42}
    assert partners.limits_of(store, "no-such-partner") == {}
