"""The alerts page (/alerts, issue 14): a failures rule is created from the page (a bad one first: the field named),
two failing runs make it fire, the firing shows on the page and is acknowledged, then resolved; the rule is edited,
disabled and deleted from the page."""
from __future__ import annotations

import datetime as dt
import uuid

from playwright.sync_api import expect

from runtime import alerts, clock
from support import wait_for
from support.browser import call

FAILING = {"schema": "crossdock.flow/1", "id": "failing", "name": "Failing mapping",
           "nodes": [{"id": "start", "type": "event.manual", "config": {"sample": {}}},
                     {"id": "map", "type": "transform.map", "config": {"expression": "$error('no such item')"}},
                     {"id": "done", "type": "control.discard", "config": {"reason": "never reached"}}],
           "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "map", "target_port": "in"},
                     {"id": "e2", "source": "map", "source_port": "out", "target": "done", "target_port": "in"}]}


def test_a_failures_rule_made_on_the_page_fires_and_is_acknowledged(page, live_server, live_login, out_dir):
    rt, base = live_server.runtime, str(live_server)
    ws = f"al{uuid.uuid4().hex[:8]}"
    rt.ensure_workspace(ws)

    def api(path: str, method: str = "GET", body=None):
        return call(f"{base}/api/v1{path}", method, body, workspace=ws, login=live_login)

    api("/flows", "POST", FAILING)
    api("/flows/failing/deploy", "POST", {})

    page.goto(f"{base}/alerts?workspace={ws}")
    expect(page.locator("[data-testid=rules-empty]")).to_be_visible()
    page.click("[data-testid=rule-new]")
    form = page.locator("[data-testid=rule-form]")
    form.locator("[data-testid=rule-name-input]").fill("Mapping failures")
    form.locator("[data-testid=rule-param-count]").fill("2")
    form.locator("[data-testid=rule-emails]").fill("ops@example.test")
    form.locator("[data-testid=rule-every]").fill("10")
    form.locator("[data-testid=rule-save]").click()  # no window yet: the server names the field
    expect(form.locator("[data-testid=rule-error]")).to_contain_text("params.window_s")
    form.locator("[data-testid=rule-param-window_s]").fill("600")
    form.locator("[data-testid=rule-save]").click()
    rows = page.locator("[data-testid=rule-row]")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("[data-testid=rule-name]")).to_have_text("Mapping failures")
    [rule] = api("/alert-rules")["rules"]
    assert rule["params"] == {"count": 2, "window_s": 600} and rule["channels"]["emails"] == ["ops@example.test"]
    assert rule["every_s"] == 10 and rule["enabled"] is True
    page.screenshot(path=str(out_dir / "1-rule.png"))

    # two failures, then the maintenance pass (every 15 s) evaluates the rule: the test runs that pass itself, at the
    # rule's next due time (its first evaluation may already have found nothing), instead of waiting for it
    runs = [api("/flows/failing/runs", "POST", {"input": {"n": i}})["run"]["id"] for i in range(2)]
    for run_id in runs:
        wait_for(lambda: api(f"/runs/{run_id}")["run"]["status"] == "failed", timeout=30)
    assert rule["id"] in alerts.evaluate_due(rt, clock.now(rt.settings) + dt.timedelta(seconds=11))

    page.click("[data-testid=alerts-refresh]")
    firing = page.locator("[data-testid=alert-row]")
    expect(firing).to_have_count(1)
    expect(firing.first.locator("[data-testid=alert-status]")).to_have_text("firing")
    expect(firing.first).to_contain_text("Mapping failures")
    expect(firing.first).to_contain_text("ops@example.test")  # its e-mail delivery is listed with it
    page.screenshot(path=str(out_dir / "2-firing.png"))

    firing.first.locator("[data-testid=alert-acknowledge]").click()
    expect(firing.first.locator("[data-testid=alert-status]")).to_have_text("acknowledged")
    [alert] = api("/alerts")["alerts"]
    assert alert["status"] == "acknowledged" and alert["acknowledged_by"] == live_server.admin_email
    expect(firing.first.locator("[data-testid=alert-acknowledge]")).to_have_count(0)
    firing.first.locator("[data-testid=alert-resolve]").click()
    expect(firing.first.locator("[data-testid=alert-status]")).to_have_text("resolved")
    assert api("/alerts")["alerts"][0]["resolved_by"] == live_server.admin_email
    page.screenshot(path=str(out_dir / "3-handled.png"))

    # edit, disable, delete
    rows.first.locator("[data-testid=rule-edit]").click()
    form.locator("[data-testid=rule-name-input]").fill("Mapping failures (2 in 10 min)")
    form.locator("[data-testid=rule-save]").click()
    expect(rows.first.locator("[data-testid=rule-name]")).to_have_text("Mapping failures (2 in 10 min)")
    rows.first.locator("[data-testid=rule-toggle]").click()
    expect(rows.first).to_have_attribute("data-enabled", "false")
    expect(rows.first.locator("[data-testid=rule-toggle]")).to_have_text("Enable")
    assert api("/alert-rules")["rules"][0]["enabled"] is False
    assert api("/alert-rules")["rules"][0]["params"] == {"count": 2, "window_s": 600}  # PUT kept the rest whole
    rows.first.locator("[data-testid=rule-delete]").click()
    rows.first.locator("[data-testid=rule-delete-confirm]").click()
    expect(page.locator("[data-testid=rules-empty]")).to_be_visible()
    assert api("/alert-rules")["rules"] == [] and api("/alerts")["alerts"] == []
