"""web/src/routes.ts: one table of the app's pages. The header's links come from it, every page it lists opens,
and a path it does not list is the app's not-found page (the server hands every such path to the app)."""
from __future__ import annotations

from playwright.sync_api import expect


def test_a_path_no_page_owns_shows_the_not_found_page_with_the_header(page, canvas_url):
    page.goto(canvas_url + "/no/such/page")
    expect(page.locator("[data-testid=not-found]")).to_contain_text("/no/such/page")
    links = page.locator(".nav-links a")
    expect(links).to_have_text(["Flows", "Templates", "Connections", "Lookups", "Trading partners",
                                "Runs", "Dashboard", "Exceptions", "Threads", "Alerts", "Reports",
                                "Workspaces", "Users", "Keys", "Audit", "Branding"])
    # three groups (building, operating, administering), on a row of their own that fits a laptop's screen
    expect(page.locator(".nav-links .nav-sep")).to_have_count(2)
    assert page.evaluate("() => { const h = document.querySelector('.app-nav'); return h.scrollWidth <= h.clientWidth; }")
    box = page.locator("[data-testid=logout]").bounding_box()
    assert box and box["x"] + box["width"] <= page.viewport_size["width"]
    page.click("[data-testid=not-found-home]")
    expect(page).to_have_url(canvas_url + "/flows")
    expect(page.locator("[data-testid=not-found]")).to_have_count(0)
    expect(page.locator("[data-testid=nav-flows]")).to_have_class("nav-link active")


def test_the_header_links_open_their_pages(page, canvas_url):
    page.goto(canvas_url + "/")
    for testid, url, marker in (("nav-runs", "/runs", "[data-testid=filter-status]"),
                                ("nav-threads", "/threads", "[data-testid=thread-key]"),
                                ("nav-exceptions", "/exceptions", "[data-testid=exception-filters]"),
                                ("nav-dashboard", "/dashboard", "[data-testid=dashboard]"),
                                ("nav-templates", "/templates", "[data-testid=nav-templates].active"),
                                ("nav-audit", "/admin/audit", "[data-testid=admin-audit]"),
                                ("nav-flows", "/flows", "[data-testid=nav-flows].active")):
        page.click(f"[data-testid={testid}]")
        expect(page).to_have_url(canvas_url + url)
        expect(page.locator(marker)).to_be_visible()
    page.goto(canvas_url + "/admin/nope")
    expect(page.locator("[data-testid=not-found]")).to_be_visible()
