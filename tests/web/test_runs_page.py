"""The run list (filters, server-side pages, live rows) and the run inspector (steps, input/output/error,
replay on the original or the current version, re-run from a step with edited input)."""
from __future__ import annotations

import json
import time

from playwright.sync_api import expect

from support import wait_for


def rows(page) -> list[int]:
    return [int(x) for x in page.eval_on_selector_all("[data-testid=run-table] tbody tr", "rs => rs.map(r => r.dataset.runId)")]


def test_run_list_filters_pages_and_stays_live(page, canvas_api, canvas_url, order_target, order_flow, post_order, out_dir):
    stamp = time.time_ns()
    flow_id, path = f"listed-{stamp}", f"listed{stamp}"
    canvas_api.create_flow(order_flow(flow_id, path, order_target.url))
    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})
    numbers = [f"PO-{stamp}-{i}" for i in range(5)] + [f"BAD-{stamp}"]
    ids = [post_order(canvas_url, path, n) for n in numbers]
    wait_for(lambda: all(canvas_api.call("GET", f"/runs/{i}")["run"]["status"] in ("succeeded", "failed") for i in ids))

    page.goto(f"{canvas_url}/runs?flow_id={flow_id}&limit=4")
    expect(page.locator("[data-testid=filter-flow]")).to_have_value(flow_id)
    expect(page.locator("[data-testid=run-table] tbody tr")).to_have_count(4)
    first = rows(page)
    assert first == sorted(ids, reverse=True)[:4]  # newest first
    expect(page.locator("[data-testid=page-newer]")).to_be_disabled()
    page.screenshot(path=str(out_dir / "1-first-page.png"))
    page.click("[data-testid=page-older]")
    expect(page.locator("[data-testid=page-number]")).to_have_text("Page 2")
    expect(page.locator("[data-testid=run-table] tbody tr")).to_have_count(2)
    assert rows(page) == sorted(ids, reverse=True)[4:]
    page.click("[data-testid=page-newer]")
    expect(page.locator("[data-testid=page-number]")).to_have_text("Page 1")
    expect(page.locator(f"[data-testid=run-table] tbody tr[data-run-id='{first[0]}']")).to_be_visible()
    assert rows(page) == first

    page.select_option("[data-testid=filter-status]", "failed")
    expect(page.locator("[data-testid=run-table] tbody tr")).to_have_count(1)
    assert rows(page) == [ids[-1]]
    expect(page.locator("[data-testid=run-table] [data-testid=run-status]")).to_have_text("failed")
    page.screenshot(path=str(out_dir / "2-failed-only.png"))
    page.select_option("[data-testid=filter-status]", "")
    page.fill("[data-testid=filter-key]", numbers[2])
    page.press("[data-testid=filter-key]", "Enter")
    expect(page.locator("[data-testid=run-table] tbody tr")).to_have_count(1)
    assert rows(page) == [ids[2]]
    expect(page.locator("[data-testid=run-table] tbody")).to_contain_text(numbers[2])
    page.fill("[data-testid=filter-key]", "")
    page.fill("[data-testid=filter-until]", "2020-01-01T00:00:00")
    page.click("[data-testid=filter-apply]")
    expect(page.locator("[data-testid=runs-empty]")).to_be_visible()
    page.fill("[data-testid=filter-until]", "")
    page.fill("[data-testid=filter-since]", "2020-01-01T00:00:00")
    page.click("[data-testid=filter-apply]")
    expect(page.locator("[data-testid=run-table] tbody tr")).to_have_count(4)

    # live: a new run appears on the first page without a reload
    newest = post_order(canvas_url, path, f"PO-{stamp}-live")
    expect(page.locator(f"[data-testid=run-table] tbody tr[data-run-id='{newest}']")).to_be_visible()
    expect(page.locator(f"tr[data-run-id='{newest}'] [data-testid=run-status]")).to_have_text("succeeded")
    assert rows(page)[0] == newest
    page.screenshot(path=str(out_dir / "3-live-row.png"))


def test_run_inspector_shows_steps_and_replays_on_either_version(page, canvas_api, canvas_url, order_target, order_flow, post_order, out_dir):
    stamp = time.time_ns()
    flow_id, path = f"inspected-{stamp}", f"inspected{stamp}"
    canvas_api.create_flow(order_flow(flow_id, path, order_target.url))
    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})
    bad = f"BAD-{stamp}"
    failed = post_order(canvas_url, path, bad)
    wait_for(lambda: canvas_api.call("GET", f"/runs/{failed}")["run"]["status"] == "failed")

    page.goto(f"{canvas_url}/runs?flow_id={flow_id}")
    page.click(f"tr[data-run-id='{failed}'] [data-testid=run-link]")
    expect(page.locator("[data-testid=run-inspector]")).to_have_attribute("data-run-status", "failed")
    expect(page.locator("[data-testid=run-title]")).to_have_text(f"Run #{failed}")
    steps = page.locator("[data-testid=step-row]")
    expect(steps).to_have_count(3)
    assert [steps.nth(i).get_attribute("data-node-id") for i in range(3)] == ["intake", "shape", "erp"]
    assert [steps.nth(i).get_attribute("data-status") for i in range(3)] == ["succeeded", "succeeded", "failed"]
    # the failed step is shown first: input, the error and its details
    expect(page.locator("[data-testid=step-detail]")).to_have_attribute("data-node-id", "erp")
    assert json.loads(page.get_attribute("[data-testid=step-input]", "data-json")) == {"ref": bad, "qty": 3}
    expect(page.locator("[data-testid=step-error-message]")).to_contain_text("500")
    assert json.loads(page.get_attribute("[data-testid=step-output-pane]", "data-json"))["status"] == 500
    expect(page.locator("[data-testid=run-error]")).to_contain_text("erp")
    page.screenshot(path=str(out_dir / "1-failed-step.png"))

    # another step, picked on the canvas: its input and output side by side, collapsible
    page.locator(".react-flow__node[data-id='shape']").click()
    expect(page.locator("[data-testid=step-detail]")).to_have_attribute("data-node-id", "shape")
    assert json.loads(page.get_attribute("[data-testid=step-output-pane]", "data-json")) == {"ref": bad, "qty": 3}
    assert json.loads(page.get_attribute("[data-testid=step-input]", "data-json"))["order"]["number"] == bad
    tree = page.locator("[data-testid=step-input] .json-tree")
    expect(tree).to_contain_text(bad)
    tree.locator(".jv-collapsed").click()  # lines, folded at the third level, unfolds
    expect(tree.locator(".jv-collapsed")).to_have_text(["{ 2 keys }", "{ 2 keys }"])
    tree.locator(".jv-collapsed").last.click()
    expect(tree).to_contain_text('sku: "SKU-2"')
    tree.locator(".jv-toggle").first.click()  # the root folds
    expect(tree).not_to_contain_text(bad)
    expect(tree.locator(".jv-collapsed")).to_have_text("{ 1 key }")
    page.screenshot(path=str(out_dir / "2-map-step.png"))

    # replay the whole run on the version it ran on: same input, same failure, linked to the original
    page.click("[data-testid=replay-original]")
    expect(page.locator("[data-testid=replay-of]")).to_have_text(f"#{failed}")
    expect(page.locator("[data-testid=run-inspector]")).to_have_attribute("data-run-status", "failed")
    again = int(page.locator("[data-testid=run-title]").inner_text().split("#")[1])
    run = canvas_api.call("GET", f"/runs/{again}")["run"]
    assert run["replay_of"] == failed and run["version"] == 1 and run["trigger"] == "replay" and run["input"]["order"]["number"] == bad

    # fix the flow (version 2 prefixes the ref), then replay the original on the current version
    canvas_api.call("PUT", f"/flows/{flow_id}", order_flow(flow_id, path, order_target.url, ref="'OK-' & order.number"))
    assert canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})["version"] == 2
    page.click("[data-testid=replay-of]")
    expect(page.locator("[data-testid=run-title]")).to_have_text(f"Run #{failed}")
    page.click("[data-testid=replay-current]")
    expect(page.locator("[data-testid=replay-of]")).to_have_text(f"#{failed}")
    expect(page.locator("[data-testid=run-inspector]")).to_have_attribute("data-run-status", "succeeded")
    expect(page.locator("[data-testid=run-page-version]")).to_have_text("v2")
    assert order_target.received[-1] == {"ref": f"OK-{bad}", "qty": 3}
    page.screenshot(path=str(out_dir / "3-replayed-on-current.png"))

    # re-run only the failed step on the original version, its input edited
    page.click("[data-testid=replay-of]")
    page.click("[data-testid=edit-rerun]")
    page.fill("[data-testid=rerun-input]", "{not json")
    page.click("[data-testid=rerun-submit]")
    expect(page.locator("[data-testid=rerun-parse-error]")).to_contain_text("Not JSON")
    page.fill("[data-testid=rerun-input]", json.dumps({"ref": f"EDITED-{stamp}", "qty": 4}))
    page.select_option("[data-testid=rerun-version]", "original")
    page.screenshot(path=str(out_dir / "4-rerun-editor.png"))
    page.click("[data-testid=rerun-submit]")
    expect(page.locator("[data-testid=replay-of]")).to_have_text(f"#{failed}")
    expect(page.locator("[data-testid=run-inspector]")).to_have_attribute("data-run-status", "succeeded")
    expect(page.locator("[data-testid=step-row]")).to_have_count(1)
    expect(page.locator("[data-testid=run-page-version]")).to_have_text("v1")
    assert order_target.received[-1] == {"ref": f"EDITED-{stamp}", "qty": 4}
    rerun_id = int(page.locator("[data-testid=run-title]").inner_text().split("#")[1])
    rerun = canvas_api.call("GET", f"/runs/{rerun_id}")["run"]
    assert rerun["start_node"] == "erp" and rerun["business_key"] == bad and rerun["version"] == 1
    page.screenshot(path=str(out_dir / "5-rerun-from-step.png"))


def test_run_list_marks_dry_runs_and_filters_them(page, canvas_api, canvas_url, order_target, order_flow, post_order, out_dir):
    """Issue 13: a dry run (connectors stopped before the call) carries the run inspector's "dry run" pill in the
    list too, and the list shows dry runs only or real runs only."""
    stamp = time.time_ns()
    flow_id, path = f"dry-listed-{stamp}", f"drylisted{stamp}"
    canvas_api.create_flow(order_flow(flow_id, path, order_target.url))
    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})
    real = post_order(canvas_url, path, f"PO-{stamp}")
    message = {"order": {"number": f"DRY-{stamp}", "lines": [{"sku": "SKU-1", "qty": 1}]}}
    dry = canvas_api.call("POST", f"/flows/{flow_id}/runs", {"input": message, "dry_run": True})["run"]["id"]
    wait_for(lambda: all(canvas_api.call("GET", f"/runs/{i}")["run"]["status"] in ("succeeded", "failed") for i in (real, dry)))
    assert [r["ref"] for r in order_target.received] == [f"PO-{stamp}"]  # the dry run sent nothing

    page.goto(f"{canvas_url}/runs?flow_id={flow_id}")
    expect(page.locator("[data-testid=run-table] tbody tr")).to_have_count(2)
    expect(page.locator(f"tr[data-run-id='{dry}'] [data-testid=run-dry]")).to_have_text("dry run")
    expect(page.locator(f"tr[data-run-id='{real}'] [data-testid=run-dry]")).to_have_count(0)
    page.screenshot(path=str(out_dir / "1-dry-run-marked.png"))

    page.select_option("[data-testid=filter-dry-run]", "true")
    expect(page.locator("[data-testid=run-table] tbody tr")).to_have_count(1)
    assert rows(page) == [dry]
    page.select_option("[data-testid=filter-dry-run]", "false")
    expect(page.locator(f"[data-testid=run-table] tbody tr[data-run-id='{real}']")).to_be_visible()
    expect(page.locator("[data-testid=run-table] tbody tr")).to_have_count(1)
    assert rows(page) == [real]
    expect(page.locator("[data-testid=run-table] [data-testid=run-dry]")).to_have_count(0)

    page.goto(f"{canvas_url}/runs?flow_id={flow_id}&dry_run=true")  # the address carries the filter
    expect(page.locator("[data-testid=filter-dry-run]")).to_have_value("true")
    expect(page.locator("[data-testid=run-table] tbody tr")).to_have_count(1)
    assert rows(page) == [dry]
