"""Issue 13 in the browser: the gallery says "installed v1, v2 available" for a flow installed from a template whose
partner published v2, and the upgrade shows the lookup-row conflict field by field; the upgrade waits until it is
resolved, then writes (v2 recorded, the customer's mapping edit kept). A partner of the test's own, so that its v2
is offered in no other test's gallery."""
from __future__ import annotations

import json
import urllib.request
import uuid
from http.cookies import SimpleCookie

from playwright.sync_api import expect

from designer.access import SESSION_COOKIE
from support import identity
from support.browser import browser_page, call


def log_in(base: str, email: str) -> dict:
    req = urllib.request.Request(f"{base}/api/v1/session", method="POST", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"email": email, "password": identity.PASSWORD}).encode())
    with urllib.request.urlopen(req, timeout=10) as res:
        return {"cookie": SimpleCookie(res.headers["Set-Cookie"])[SESSION_COOKIE].value,
                "csrf": json.loads(res.read())["csrf_token"]}


def erp_body(doc: dict) -> str:
    return next(n for n in doc["nodes"] if n["id"] == "erp_order")["config"]["body"]


def set_erp_body(doc: dict, old: str, new: str) -> None:
    node = next(n for n in doc["nodes"] if n["id"] == "erp_order")
    assert old in node["config"]["body"]
    node["config"]["body"] = node["config"]["body"].replace(old, new)


def test_gallery_offers_v2_and_the_upgrade_resolves_the_lookup_row_conflict(chromium, live_server, out_dir):
    rt, base = live_server.runtime, str(live_server).rstrip("/")
    partner = identity.make_partner(rt)
    ws = f"upg{uuid.uuid4().hex[:8]}"
    rt.ensure_workspace(ws, partner_id=partner)
    email = f"admin-{uuid.uuid4().hex[:8]}@{partner}.test"
    identity.make_user(rt, partner, "admin", email=email)
    login = log_in(base, email)

    def api(path: str, method: str = "GET", body=None):
        return call(f"{base}/api/v1{path}", method, body, workspace=ws, login=login)

    api("/templates/import", "POST", {"template": "order-release"})
    flow = api("/flows/order-release")["flow"]
    set_erp_body(flow, '"currencyCode": currency', '"currencyCode": "EUR"')
    api("/flows/order-release", "PUT", flow)
    api("/lookups/carriers/rows/EXPRESS", "PUT", {"value": "DHL"})
    bundle = api("/templates/order-release")
    set_erp_body(bundle["flow"], '"customerNo": customer_no', '"customerNo": $uppercase(customer_no)')
    bundle["lookups"]["carriers"]["EXPRESS"] = "FDX2"
    assert api("/templates/publish", "POST", {"bundle": bundle})["version"] == 2

    cookies = [{"name": SESSION_COOKIE, "value": login["cookie"], "url": base}]
    with browser_page(chromium, out_dir, cookies) as page:
        page.goto(f"{base}/templates?workspace={ws}")
        card = page.locator("[data-template-id=order-release]")
        version = card.locator("[data-testid=template-version]")
        expect(version).to_contain_text("installed v1, v2 available")
        page.screenshot(path=str(out_dir / "1-gallery.png"))

        version.locator("[data-testid=upgrade-template]").click()
        dialog = page.locator("[data-testid=upgrade-dialog]")
        conflict = dialog.locator("[data-testid=conflict]")
        expect(conflict).to_have_count(1)
        expect(conflict).to_have_attribute("data-conflict-id", "lookups.carriers.rows.EXPRESS")
        expect(conflict).to_contain_text("lookup table carriers, row EXPRESS")
        for value in ("FDEG", "DHL", "FDX2"):  # the template's v1, the customer's and v2's
            expect(conflict).to_contain_text(value)
        expect(dialog.locator("[data-testid=upgrade-changes] li")).to_have_count(1)
        expect(dialog.locator("[data-change-id='nodes.erp_order.config.body.customerNo']")).to_be_visible()
        expect(dialog.locator("[data-testid=upgrade-apply]")).to_be_disabled()
        page.screenshot(path=str(out_dir / "2-conflict.png"))
        assert api("/lookups/carriers")["rows"]["EXPRESS"] == "DHL"  # nothing written while it is open

        conflict.locator("[data-testid=take-theirs]").check()
        expect(dialog.locator("[data-testid=upgrade-apply]")).to_be_enabled()
        dialog.locator("[data-testid=upgrade-apply]").click()
        expect(dialog.locator("[data-testid=upgrade-done]")).to_contain_text("Upgraded to version 2")
        page.screenshot(path=str(out_dir / "3-upgraded.png"))
        dialog.locator("[data-testid=upgrade-done] button").click()
        expect(version).to_have_text("installed v2")

    assert api("/lookups/carriers")["rows"]["EXPRESS"] == "FDX2"
    body = erp_body(api("/flows/order-release")["flow"])
    assert '"currencyCode": "EUR"' in body and '"customerNo": $uppercase(customer_no)' in body
