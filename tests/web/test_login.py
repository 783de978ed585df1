"""The login page in a browser: the brand before and after signing in, a wrong password, the lockout, going
back to the page asked for, signing out; a white-labelled partner's pages never say "Crossdock"."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from runtime import accounts, partners, tenancy
from support import identity
from support.browser import browser_page

WRONG = "not-the-password-1"


@pytest.fixture
def visitor(chromium, out_dir):
    """A browser page with no session (its own cookie jar)."""
    with browser_page(chromium, out_dir) as pg:
        yield pg


def sign_in(page, email: str, password: str) -> None:
    page.fill("[data-testid=login-email]", email)
    page.fill("[data-testid=login-password]", password)
    page.click("[data-testid=login-submit]")


def test_login_wrong_password_then_next_page_and_sign_out(visitor, live_server, out_dir):
    base = live_server.rstrip("/")
    user = identity.make_user(live_server.runtime, "default", "viewer", "default")
    email = _email(live_server.runtime, user)

    # an unauthenticated page goes to the login page, which remembers where it was going
    visitor.goto(f"{base}/runs?status=failed")
    expect(visitor).to_have_url(re.compile(r"/login\?next=%2Fruns%3Fstatus%3Dfailed$"))
    expect(visitor.locator("[data-testid=brand-name]")).to_have_text("Crossdock")
    expect(visitor).to_have_title(re.compile("Crossdock"))
    visitor.screenshot(path=str(out_dir / "1-login.png"))

    sign_in(visitor, email, WRONG)
    expect(visitor.locator("[data-testid=login-error]")).to_have_text("Wrong email or password.")
    assert "/login" in visitor.url
    sign_in(visitor, "nobody@nowhere.test", WRONG)
    expect(visitor.locator("[data-testid=login-error]")).to_have_text("Wrong email or password.")

    sign_in(visitor, email, identity.PASSWORD)
    expect(visitor).to_have_url(re.compile(r"/runs\?status=failed$"))
    expect(visitor.locator("[data-testid=current-user]")).to_have_text(email)
    expect(visitor.locator("[data-testid=current-role]")).to_have_text("viewer")
    expect(visitor.locator("[data-testid=filter-status]")).to_have_value("failed")
    visitor.screenshot(path=str(out_dir / "2-signed-in.png"))

    # a session that ends under an open page: its next call goes to the login page, which comes back here
    visitor.context.clear_cookies()
    visitor.click("[data-testid=filter-apply]")
    expect(visitor).to_have_url(re.compile(r"/login\?next=%2Fruns%3Fstatus%3Dfailed$"))
    sign_in(visitor, email, identity.PASSWORD)
    expect(visitor).to_have_url(re.compile(r"/runs\?status=failed$"))

    visitor.click("[data-testid=logout]")
    expect(visitor).to_have_url(re.compile(r"/login$"))
    assert visitor.request.get(f"{base}/api/v1/session").status == 401  # the cookie no longer signs anyone in
    visitor.goto(f"{base}/flows")
    expect(visitor).to_have_url(re.compile(r"/login\?next=%2Fflows$"))


def test_a_first_password_is_changed_before_anything_else(visitor, live_server):
    base, rt = live_server.rstrip("/"), live_server.runtime
    user = identity.make_user(rt, "default", "consultant", "default")
    accounts.set_password(rt, user, identity.PASSWORD, must_change=True)  # as an admin's new user gets it
    email, chosen = _email(rt, user), "my-own-password-42"
    visitor.goto(f"{base}/login?next=/templates")
    sign_in(visitor, email, identity.PASSWORD)
    expect(visitor.locator("[data-testid=change-password]")).to_be_visible()
    visitor.goto(f"{base}/flows")  # no way around it: the app sends the user back
    expect(visitor.locator("[data-testid=change-password]")).to_be_visible()
    visitor.fill("[data-testid=current-password]", identity.PASSWORD)
    visitor.fill("[data-testid=new-password]", chosen)
    visitor.fill("[data-testid=new-password-again]", chosen)
    visitor.click("[data-testid=change-password-submit]")
    expect(visitor).to_have_url(re.compile(r"/flows$"))
    expect(visitor.locator("[data-testid=current-role]")).to_have_text("consultant")
    assert accounts.login(rt, email, chosen).outcome == "ok"


def test_login_locks_the_account_after_five_failures(visitor, live_server):
    base = live_server.rstrip("/")
    email = _email(live_server.runtime, identity.make_user(live_server.runtime, "default", "viewer", "default"))
    visitor.goto(f"{base}/login")
    for _ in range(4):
        sign_in(visitor, email, WRONG)
        expect(visitor.locator("[data-testid=login-error]")).to_have_text("Wrong email or password.")
        expect(visitor.locator("[data-testid=login-submit]")).to_be_enabled()
    sign_in(visitor, email, WRONG)
    expect(visitor.locator("[data-testid=login-error]")).to_contain_text("locked")
    expect(visitor.locator("[data-testid=login-submit]")).to_be_enabled()
    sign_in(visitor, email, identity.PASSWORD)  # even the right password, until the lock ends
    expect(visitor.locator("[data-testid=login-error]")).to_contain_text("locked")
    assert "/login" in visitor.url


def test_a_white_labelled_partner_never_shows_crossdock(visitor, live_server, out_dir):
    base, rt = live_server.rstrip("/"), live_server.runtime
    partner = identity.make_partner(rt)
    partners.update(rt, partner, {"branding": {
        "product_name": "Acme Integrate", "colors": {"primary": "#b91c1c", "accent": "#f59e0b"},
        "support": {"email": "help@acme.example", "url": "https://help.acme.example/integrate"},
        "logo_url": "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxNiAxNiI+"
                    "PHJlY3Qgd2lkdGg9IjE2IiBoZWlnaHQ9IjE2IiBmaWxsPSIjYjkxYzFjIi8+PC9zdmc+"}})
    ws = f"acme-{uuid.uuid4().hex[:8]}"
    tenancy.create(rt, partner, ws, "Acme Foods")
    other = f"acme-{uuid.uuid4().hex[:8]}"
    tenancy.create(rt, partner, other, "Acme Drinks")
    admin = identity.make_user(rt, partner, "admin", email=f"admin@{partner}.test")

    # the partner's own login link shows its brand before anyone signs in
    visitor.goto(f"{base}/login?partner={partner}")
    expect(visitor.locator("[data-testid=brand-name]")).to_have_text("Acme Integrate")
    expect(visitor.locator("[data-testid=brand-logo]")).to_be_visible()
    assert visitor.get_attribute("link[rel=icon]", "href").startswith("data:image/svg+xml;base64,PHN2Zy")
    expect(visitor.locator("[data-testid=support]")).to_contain_text("help@acme.example")
    _assert_unbranded(visitor)
    visitor.screenshot(path=str(out_dir / "1-login.png"))
    sign_in(visitor, _email(rt, admin), identity.PASSWORD)
    expect(visitor.locator("[data-testid=current-user]")).to_be_visible()

    for path in ("/flows", "/runs", "/templates", "/admin/workspaces", "/admin/users", "/admin/keys",
                 "/admin/audit", "/admin/branding"):
        visitor.goto(f"{base}{path}?workspace={ws}")
        expect(visitor.locator("[data-testid=brand-name]")).to_have_text("Acme Integrate")
        expect(visitor.locator("[data-testid=support]")).to_have_attribute("href", "https://help.acme.example/integrate")
        expect(visitor.locator("[data-testid=support]")).to_have_attribute("title", re.compile("help@acme.example"))
        visitor.wait_for_load_state("networkidle")
        _assert_unbranded(visitor)
        accent = visitor.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()")
        assert accent == "#b91c1c", path
    visitor.screenshot(path=str(out_dir / "2-branded-pages.png"))

    # the editor too: its own header wears the brand
    csrf = visitor.request.get(f"{base}/api/v1/session").json()["csrf_token"]
    flow = {"schema": "crossdock.flow/1", "id": "acme-orders", "name": "Orders", "nodes": [], "edges": []}
    assert visitor.request.post(f"{base}/api/v1/flows", data=flow, headers={
        "X-Crossdock-CSRF": csrf, "X-Crossdock-Workspace": ws}).status == 201
    visitor.goto(f"{base}/flows/acme-orders?workspace={ws}")
    visitor.wait_for_function("window.__crossdock && window.__crossdock.ready")
    expect(visitor.locator("[data-testid=brand-name]")).to_have_text("Acme Integrate")
    _assert_unbranded(visitor)

    # the header's switcher lists the partner's workspaces and moves the app to the one picked
    visitor.goto(f"{base}/runs?workspace={ws}")
    names = {ws: "Acme Foods", other: "Acme Drinks"}
    expect(visitor.locator("[data-testid=workspace-switch] option")).to_have_text([names[w] for w in sorted(names)])
    visitor.select_option("[data-testid=workspace-switch]", other)
    expect(visitor).to_have_url(re.compile(f"/flows\\?workspace={other}$"))
    expect(visitor.locator("[data-testid=workspace-switch]")).to_have_value(other)
    _assert_unbranded(visitor)

    # signed out, the login page still wears the partner's brand
    visitor.click("[data-testid=logout]")
    expect(visitor).to_have_url(re.compile(f"/login\\?partner={partner}$"))
    expect(visitor.locator("[data-testid=brand-name]")).to_have_text("Acme Integrate")
    _assert_unbranded(visitor)


def _assert_unbranded(page) -> None:
    expect(page).to_have_title(re.compile("Acme Integrate"))
    text = page.evaluate("document.body.innerText + ' ' + document.title")
    assert "crossdock" not in text.lower(), f"{page.url} shows Crossdock: {text[:500]}"


def _email(rt, user_id: int) -> str:
    return accounts.identity(rt, user_id).email
