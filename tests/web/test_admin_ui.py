"""Issue 11, acceptance 2 (third point): a partner admin signs in, creates a customer workspace with the
order-release template installed in the same step, sets the partner's brand, and that brand (product name,
logo, colours, window title, no "Crossdock" anywhere) shows on every page: flows, editor, monitor, runs,
templates, each admin page, and the sign-in page after signing out.

The test's partner and admin are its own, so signing out ends no session another test holds and the
brand of partner `default` stays as it is."""
from __future__ import annotations

import base64
import json
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from runtime import accounts, tenancy
from support.identity import PASSWORD, make_partner, make_user

# a 2x2 PNG (red, green, blue, white): the logo the admin uploads
LOGO_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAE0lEQVR4nGP4z8DAsACIGf4DAQAclwWcT4AauwAAAABJRU5ErkJggg==")
PRODUCT = "Northwind Integrate"
PRIMARY = "#0f766e"
ACCENT = "#b45309"


@pytest.fixture
def partner_admin(live_server):
    """A partner of this test's own with one admin and a first customer already: (partner id, email, that
    customer's workspace)."""
    rt = live_server.runtime
    partner = make_partner(rt)
    first = f"first-{uuid.uuid4().hex[:6]}"
    tenancy.create(rt, partner, first, "First Customer")
    email = f"admin-{uuid.uuid4().hex[:6]}@{partner}.test"
    make_user(rt, partner, "admin", email=email, name="Nora Admin")
    return partner, email, first


def sign_in(page: Page, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/login?next={next_path}")
    page.fill("[data-testid=login-email]", email)
    page.fill("[data-testid=login-password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(next_path.split("?")[0])))


def session_get(page: Page, base: str, path: str, workspace: str) -> dict:
    """GET /api/v1<path> with the page's own session cookie."""
    res = page.request.get(f"{base}/api/v1{path}", headers={"X-Crossdock-Workspace": workspace})
    assert res.ok, (path, res.status, res.text())
    return res.json()


def assert_branded(page: Page, where: str, logo: str) -> None:
    """The partner's brand and nothing of Crossdock's: name and logo in view, colours applied, the window title.
    (Flow content may hold lower-case `crossdock:` tags of the template's own; the product's name it is not.)"""
    expect(page.locator("[data-testid=brand-name]").first, where).to_have_text(PRODUCT)
    expect(page.locator("[data-testid=brand-logo]").first, where).to_have_attribute("src", logo)
    accent = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()")
    assert accent.lower() == PRIMARY, (where, accent)
    expect(page, where).to_have_title(re.compile(re.escape(PRODUCT)))
    text = page.locator("body").inner_text()
    assert "Crossdock" not in text, (where, text[:2000])
    assert "Crossdock" not in page.title(), where


def test_partner_admin_creates_a_customer_installs_order_release_and_brands_every_page(page, live_server, canvas_api,
                                                                                      partner_admin, out_dir):
    base = live_server.rstrip("/")
    partner, email, first = partner_admin
    ws = f"cust-{uuid.uuid4().hex[:6]}"
    page.context.clear_cookies()  # not the shared admin session the page fixture gives: this partner's own

    # before any brand is set the partner's pages are Crossdock's
    sign_in(page, base, email, "/admin/workspaces")
    expect(page.locator("[data-testid=admin-workspaces]")).to_be_visible()
    expect(page.locator("[data-testid=brand-name]")).to_have_text("Crossdock")
    for label in ("workspaces", "users", "keys", "audit", "branding"):
        expect(page.locator(f"[data-testid=nav-{label}]")).to_be_visible()

    # a customer workspace with the order-release template, in one step
    page.click("[data-testid=ws-create]")
    dialog = page.locator("[data-testid=ws-create-dialog]")
    dialog.locator("[data-testid=ws-id]").fill(ws)
    dialog.locator("[data-testid=ws-new-name]").fill("Contoso Distribution")
    dialog.locator("[data-testid=ws-template]").select_option("order-release")
    expect(dialog.locator("[data-testid=ws-param-ship_method]")).to_have_value("GROUND")
    dialog.locator("[data-testid=ws-param-ship_method]").fill("EXPRESS")
    page.screenshot(path=str(out_dir / "1-create-workspace.png"))
    dialog.locator("[data-testid=ws-create-submit]").click()
    expect(dialog.locator("[data-testid=ws-created]")).to_be_visible()
    expect(dialog.locator("[data-testid=ws-installed-flow]")).to_have_text(["order-release"])
    page.keyboard.press("Escape")
    row = page.locator(f"[data-testid=ws-table] tr[data-ws-id={ws}]")
    expect(row.locator("[data-testid=ws-name]")).to_have_text("Contoso Distribution")
    expect(row.locator("[data-testid=ws-status]")).to_have_text("active")
    expect(page.locator(f"[data-testid=workspace-switch] option[value={ws}]")).to_have_text("Contoso Distribution")

    listed = session_get(page, base, "/workspaces", ws)["workspaces"]
    assert sorted((w["id"], w["partner_id"], w["status"]) for w in listed) == [(ws, partner, "active"), (first, partner, "active")]
    flow = session_get(page, base, "/flows/order-release", ws)["flow"]
    assert flow["params"]["ship_method"]["default"] == "EXPRESS"
    # the workspace is this partner's alone: partner default's admin does not see it
    assert ws not in {w["id"] for w in canvas_api.call("GET", "/workspaces")["workspaces"]}

    # the brand: product name, logo upload, colours, support contact
    page.click("[data-testid=nav-branding]")
    page.fill("[data-testid=brand-product]", PRODUCT)
    page.set_input_files("[data-testid=brand-logo-file]", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": LOGO_PNG}])
    logo = "data:image/png;base64," + base64.b64encode(LOGO_PNG).decode()
    expect(page.locator("[data-testid=brand-preview-logo]")).to_have_attribute("src", logo)
    page.fill("[data-testid=brand-primary]", PRIMARY)
    page.fill("[data-testid=brand-accent]", ACCENT)
    page.fill("[data-testid=brand-support-email]", "help@northwind.example")
    page.fill("[data-testid=brand-support-url]", "https://northwind.example/help")
    expect(page.locator("[data-testid=brand-preview-name]")).to_have_text(PRODUCT)
    page.screenshot(path=str(out_dir / "2-branding.png"))
    page.click("[data-testid=brand-save]")
    expect(page.locator("[data-testid=brand-saved]")).to_be_visible()
    # the header takes the saved brand at once, without a reload
    assert_branded(page, "branding page after save", logo)
    stored = session_get(page, base, "/partner", ws)
    assert stored["branding"] == {"product_name": PRODUCT, "logo_url": logo, "colors": {"primary": PRIMARY, "accent": ACCENT},
                                  "support": {"email": "help@northwind.example", "url": "https://northwind.example/help"}}

    # every page of the customer's workspace carries the brand
    pages = [
        ("flow list", f"/flows?workspace={ws}", "[data-testid=flow-table] tr[data-flow-id=order-release]"),
        ("editor", f"/flows/order-release?workspace={ws}", ".react-flow__node"),
        ("monitor", f"/monitor/order-release?workspace={ws}", ".react-flow__node"),
        ("runs", f"/runs?workspace={ws}", "[data-testid=filter-flow]"),
        ("templates", f"/templates?workspace={ws}", "[data-testid=template-card]"),
        ("workspaces", f"/admin/workspaces?workspace={ws}", f"tr[data-ws-id={ws}]"),
        ("users", f"/admin/users?workspace={ws}", f"tr[data-user-email='{email}']"),
        ("keys", f"/admin/keys?workspace={ws}", "[data-testid=key-create]"),
        ("audit", f"/admin/audit?workspace={ws}", "[data-testid=audit-table]"),
        ("branding", f"/admin/branding?workspace={ws}", "[data-testid=brand-preview]"),
    ]
    for i, (where, path, ready) in enumerate(pages):
        page.goto(f"{base}{path}")
        expect(page.locator(ready).first, where).to_be_visible()
        assert_branded(page, where, logo)
        page.screenshot(path=str(out_dir / f"3-{i:02d}-{where.replace(' ', '-')}.png"))

    # the audit log of the workspace has its creation, by this admin
    entries = session_get(page, base, "/audit?action=workspace.", ws)["entries"]
    assert [(e["action"], e["actor"]) for e in entries] == [("workspace.create", email)]

    # signing out lands on the sign-in page, still under the partner's brand
    page.click("[data-testid=logout]")
    page.wait_for_url(re.compile(r"/login"))
    expect(page.locator("[data-testid=login]")).to_be_visible()
    assert_branded(page, "sign-in page after signing out", logo)
    page.screenshot(path=str(out_dir / "4-signed-out.png"))
    assert page.request.get(f"{base}/api/v1/session").status == 401



def api_status(page: Page, base: str, method: str, path: str, headers: dict, body=None) -> int:
    """The status of a call made with `headers` alone (no session: the context's cookies are not sent)."""
    res = page.request.fetch(f"{base}/api/v1{path}", method=method, headers={"Cookie": "", **headers},
                             data=None if body is None else json.dumps(body))
    return res.status


def test_admin_pages_manage_users_keys_workspaces_and_read_the_audit_log(page, live_server, partner_admin, out_dir):
    base = live_server.rstrip("/")
    partner, email, first = partner_admin
    rt = live_server.runtime
    page.context.clear_cookies()
    sign_in(page, base, email, f"/admin/users?workspace={first}")

    # a user with a role in the first workspace: the one-time password is shown once and lets them in
    page.click("[data-testid=user-create]")
    dialog = page.locator("[data-testid=user-create-dialog]")
    maria = f"maria-{uuid.uuid4().hex[:6]}@{partner}.test"
    dialog.locator("[data-testid=user-email]").fill(maria)
    dialog.locator("[data-testid=user-name]").fill("Maria Mapper")
    dialog.locator(f"[data-testid=user-role-{first}]").select_option("mapper")
    dialog.locator("[data-testid=user-create-submit]").click()
    once = dialog.locator("[data-testid=secret-value]").input_value()
    assert len(once) >= 12
    assert accounts.login(rt, maria, once).outcome == "ok"
    page.screenshot(path=str(out_dir / "1-user-created.png"))
    dialog.locator("[data-testid=user-created-done]").click()
    expect(page.locator("[data-testid=secret-value]")).to_have_count(0)
    row = page.locator(f"tr[data-user-email='{maria}']")
    expect(row.locator("[data-testid=user-roles]")).to_have_text(f"{first}: mapper")

    # roles change; a locked account is shown and unlocked; a reset password replaces the old one
    row.locator("[data-testid=user-roles-edit]").click()
    page.locator(f"[data-testid=user-roles-dialog] [data-testid=user-role-{first}]").select_option("operator")
    page.click("[data-testid=user-roles-save]")
    expect(row.locator("[data-testid=user-roles]")).to_have_text(f"{first}: operator")
    for _ in range(accounts.MAX_FAILURES):
        accounts.login(rt, maria, "not the password")
    page.reload()
    expect(row.locator("[data-testid=user-locked]")).to_be_visible()
    row.locator("[data-testid=user-unlock]").click()
    expect(row.locator("[data-testid=user-locked]")).to_have_count(0)
    row.locator("[data-testid=user-reset]").click()
    fresh = page.locator("[data-testid=user-password-dialog] [data-testid=secret-value]").input_value()
    assert fresh != once
    assert accounts.login(rt, maria, once).outcome == "invalid"
    assert accounts.login(rt, maria, fresh).outcome == "ok"
    page.keyboard.press("Escape")
    user = next(u for u in session_get(page, base, "/users", first)["users"] if u["email"] == maria)
    assert user["memberships"] == [{"workspace": first, "role": "operator"}] and not user["locked"]
    row.locator("[data-testid=user-delete]").click()
    expect(page.locator("[data-testid=confirm-delete]")).to_be_disabled()
    page.fill("[data-testid=confirm-input]", maria)
    page.click("[data-testid=confirm-delete]")
    expect(row).to_have_count(0)

    # an API key: its secret once, with a copy button; it works until it is revoked
    page.click("[data-testid=nav-keys]")
    page.click("[data-testid=key-create]")
    dialog = page.locator("[data-testid=key-create-dialog]")
    dialog.locator("[data-testid=key-name-input]").fill("OMS webhooks")
    dialog.locator("[data-testid='key-scope-runs:read']").check()
    dialog.locator("[data-testid=key-create-submit]").click()
    secret = dialog.locator("[data-testid=secret-value]").input_value()
    assert secret.startswith("cdk_")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    dialog.locator("[data-testid=secret-copy]").click()
    expect(dialog.locator("[data-testid=secret-copy]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.screenshot(path=str(out_dir / "2-key-created.png"))
    dialog.locator("[data-testid=key-created-done]").click()
    key_row = page.locator("[data-testid=key-table] tr", has_text="OMS webhooks")
    expect(key_row).to_contain_text("hooks:write")
    expect(key_row).to_contain_text("runs:read")
    assert secret not in page.content()
    key = next(k for k in session_get(page, base, "/keys", first)["keys"] if k["name"] == "OMS webhooks")
    assert sorted(key["scopes"]) == ["hooks:write", "runs:read"] and secret.startswith(f"cdk_{key['id']}_")
    assert api_status(page, base, "GET", "/runs", {"X-Crossdock-Key": secret}) == 200
    key_row.locator("[data-testid=key-revoke]").click()
    page.click("[data-testid=key-revoke-confirm]")
    expect(key_row).to_have_count(0)
    assert api_status(page, base, "GET", "/runs", {"X-Crossdock-Key": secret}) == 401

    # workspaces: rename, suspend and activate again, the egress allow-list, delete by typing the id
    page.click("[data-testid=nav-workspaces]")
    row = page.locator(f"tr[data-ws-id={first}]")
    row.locator("[data-testid=ws-rename]").click()
    page.fill("[data-testid=ws-rename-input]", "Fabrikam Wholesale")
    page.click("[data-testid=ws-rename-save]")
    expect(row.locator("[data-testid=ws-name]")).to_have_text("Fabrikam Wholesale")
    row.locator("[data-testid=ws-suspend]").click()
    expect(row.locator("[data-testid=ws-status]")).to_have_text("suspended")
    row.locator("[data-testid=ws-activate]").click()
    expect(row.locator("[data-testid=ws-status]")).to_have_text("active")
    row.locator("[data-testid=ws-egress]").click()
    page.fill("[data-testid=ws-egress-input]", "127.0.0.1:6379 nope")
    expect(page.locator("[data-testid=ws-egress-save]")).to_be_disabled()
    page.fill("[data-testid=ws-egress-input]", "10.0.4.12:8080\n10.20.0.0/16")
    page.click("[data-testid=ws-egress-save]")
    expect(page.locator("[data-testid=ws-egress-dialog]")).to_have_count(0)
    ws = next(w for w in session_get(page, base, "/workspaces", first)["workspaces"] if w["id"] == first)
    assert (ws["name"], ws["status"], ws["settings"]) == ("Fabrikam Wholesale", "active",
                                                          {"egress": {"allow": ["10.0.4.12:8080", "10.20.0.0/16"]}})
    row.locator("[data-testid=ws-egress]").click()
    expect(page.locator("[data-testid=ws-egress-input]")).to_have_value("10.0.4.12:8080\n10.20.0.0/16")
    page.keyboard.press("Escape")

    # the audit log of the workspace: every change above, filtered by action, exported
    page.click("[data-testid=nav-audit]")
    expect(page.locator("[data-testid=audit-table]")).to_be_visible()
    actions = page.locator("[data-testid=audit-entry-action]").all_inner_texts()
    assert actions[:4] == ["workspace.update"] * 4 and "key.revoke" in actions and "key.create" in actions, actions
    page.fill("[data-testid=audit-action]", "key.")
    page.click("[data-testid=audit-filter]")
    expect(page.locator("[data-testid=audit-entry-action]")).to_have_text(["key.revoke", "key.create"])
    with page.expect_download() as download:
        page.click("[data-testid=audit-export-csv]")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("id,at,workspace,actor,action") and len(lines) == 3, lines
    page.select_option("[data-testid=audit-scope]", "partner")
    page.fill("[data-testid=audit-action]", "user.")
    page.click("[data-testid=audit-filter]")
    expect(page.locator("[data-testid=audit-entry-action]").first).to_have_text("user.delete")
    page.screenshot(path=str(out_dir / "3-audit.png"))

    page.click("[data-testid=nav-workspaces]")
    row.locator("[data-testid=ws-delete]").click()
    page.fill("[data-testid=confirm-input]", first)
    page.click("[data-testid=confirm-delete]")
    expect(row).to_have_count(0)
    assert first not in {w["id"] for w in session_get(page, base, "/workspaces", first)["workspaces"]}


def test_a_new_partners_admin_without_a_workspace_starts_on_the_workspaces_page_and_creates_the_first(
        page, live_server):
    """`run.py create-admin --partner P` makes an admin of a partner with no customer yet: signing in lands on
    the workspaces page (the other pages need a workspace), where the first customer is created."""
    rt, base = live_server.runtime, live_server.rstrip("/")
    partner = make_partner(rt)
    email = f"founder-{uuid.uuid4().hex[:6]}@{partner}.test"
    accounts.create_admin(rt, email, partner_id=partner, password=PASSWORD, must_change_password=False)
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("[data-testid=login-email]", email)
    page.fill("[data-testid=login-password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/workspaces"))
    expect(page.locator("[data-testid=admin-workspaces]")).to_be_visible()
    ws = f"first-{uuid.uuid4().hex[:6]}"
    page.click("[data-testid=ws-create]")
    page.fill("[data-testid=ws-id]", ws)
    page.fill("[data-testid=ws-new-name]", "First Customer")
    page.click("[data-testid=ws-create-submit]")
    expect(page.locator("[data-testid=ws-created]")).to_contain_text(ws)
    assert [w["id"] for w in session_get(page, base, "/workspaces", ws)["workspaces"]] == [ws]
    page.click("[data-testid=ws-go]")  # into the new customer's flows: the pages that need a workspace work now
    page.wait_for_url(re.compile(rf"/flows\?workspace={ws}"))
    expect(page.locator("[data-testid=brand-name]").first).to_be_visible()
    assert "Could not load" not in page.locator("body").inner_text()
