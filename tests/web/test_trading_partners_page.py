"""The /trading-partners page (issue 15) in headless Chromium: the header links to it; a partner is created,
refused with the field the server names marked, edited and deleted; the interchanges sent to it show their
997 status."""
from __future__ import annotations

import datetime as dt
import uuid

from playwright.sync_api import expect

from runtime import edi_register, trading_partners
from runtime.models import utcnow


def test_create_edit_and_delete_a_trading_partner(page, canvas_url, live_server, out_dir):
    ws = f"tp{uuid.uuid4().hex[:8]}"
    live_server.runtime.ensure_workspace(ws)
    page.goto(f"{canvas_url}/flows?workspace={ws}")
    page.click("[data-testid=nav-trading-partners]")
    expect(page).to_have_url(f"{canvas_url}/trading-partners?workspace={ws}")
    expect(page.locator("[data-testid=tp-empty]")).to_be_visible()

    page.click("[data-testid=tp-new]")
    dialog = page.locator("[data-testid=tp-dialog]")
    page.fill("[data-testid='tp-name']", "acme")
    page.fill("[data-testid='tp-partner.id']", "ACMEHW")
    page.fill("[data-testid='tp-us.id']", "CROSS*DOCK")  # holds the element separator: the server refuses it
    page.click("[data-testid=tp-save]")
    error = dialog.locator("[data-testid=tp-error]")
    expect(error).to_contain_text("us.id")
    expect(error).to_have_attribute("data-field", "us.id")
    expect(page.locator("[data-testid='tp-us.id']")).to_have_class("invalid")
    page.fill("[data-testid='tp-us.id']", "CROSSDOCK")
    page.fill("[data-testid='tp-version']", "005010")
    page.select_option("[data-testid=tp-usage]", "P")
    page.fill("[data-testid='tp-ack.window_minutes']", "90")
    page.click("[data-testid=tp-save]")
    expect(dialog).to_have_count(0)

    row = page.locator("[data-testid=tp-row][data-partner=acme]")
    expect(row.locator("[data-testid=tp-partner-ids]")).to_have_text("ZZ/ACMEHW")
    expect(row.locator("[data-testid=tp-usage-pill]")).to_have_text("production")
    expect(row.locator("[data-testid=tp-ack]")).to_have_text("within 90 min")
    stored = trading_partners.get(live_server.runtime, ws, "acme")
    assert (stored["us"]["id"], stored["version"], stored["usage"]) == ("CROSSDOCK", "005010", "P")
    page.screenshot(path=str(out_dir / "trading-partners.png"))

    # edit: the dialog opens with the stored values; the name cannot change
    row.locator("[data-testid=tp-edit]").click()
    expect(page.locator("[data-testid='tp-name']")).to_be_disabled()
    expect(page.locator("[data-testid='tp-partner.id']")).to_have_value("ACMEHW")
    page.uncheck("[data-testid='tp-ack.expected']")
    page.fill("[data-testid='tp-description']", "Acme Hardware")
    page.click("[data-testid=tp-save]")
    expect(row.locator("[data-testid=tp-ack]")).to_have_text("not expected")
    expect(row).to_contain_text("Acme Hardware")

    # the interchanges sent, with their 997 status, and the control number given out
    number = trading_partners.take_control_number(live_server.runtime.engine, ws, "acme")
    trading_partners.save(live_server.runtime, ws, "acme", {**{k: stored[k] for k in ("partner", "us", "version")},
                                                           "ack": {"expected": True, "window_minutes": 60}})
    edi_register.sent(live_server.runtime, ws, "acme", number, [{"functional_id": "PR", "control_number": number,
                                                                 "sets": 1}], now=utcnow() - dt.timedelta(hours=2))
    edi_register.sweep_overdue(live_server.runtime)
    page.reload()
    expect(row.locator("[data-testid=tp-last]")).to_have_text(f"{number:09d}")
    row.locator("[data-testid=tp-interchanges]").click()
    expect(page.locator("[data-testid=tp-interchange-status]")).to_have_text(["overdue"])
    page.keyboard.press("Escape")

    row.locator("[data-testid=tp-delete]").click()
    page.fill("[data-testid=confirm-input]", "acme")
    page.click("[data-testid=confirm-delete]")
    expect(page.locator("[data-testid=tp-empty]")).to_be_visible()
    assert trading_partners.describe(live_server.runtime, ws, "acme") is None
