"""Issue 13: "The ERP node's preview starts from an empty sample instead of the upstream node's output." In the
inspector's own preview (not the mapper), a node downstream of others previews on their output over a saved sample
of the flow, names that sample and the nodes it comes from, and follows another sample when one is picked."""
from __future__ import annotations

import copy
import json

from playwright.sync_api import expect

from support import wait_for
from support.browser import call

FLOW, NODE = "order-release", "erp_order"


def test_the_erp_nodes_preview_starts_from_the_upstream_output_on_the_chosen_sample(
        page, live_server, templated_workspace, out_dir, live_login):
    ws, base = templated_workspace, str(live_server)

    def api(path: str, method: str = "GET", body=None):
        return call(f"{base}/api/v1{path}", method, body, workspace=ws, login=live_login)

    doc = api(f"/flows/{FLOW}")["flow"]
    order = next(iter(doc["samples"].values()))
    second = copy.deepcopy(order)
    second.update(id=5009002, name="#M-second")
    second["shipping_address"]["city"] = "Second City"
    doc["samples"] = {"first": order, "second": second}
    api(f"/flows/{FLOW}", "PUT", doc)
    body = next(n for n in doc["nodes"] if n["id"] == NODE)["config"]["body"]
    # what the steps before the ERP node make of each sample, and the body evaluated on it, as the API has them
    expected = api(f"/flows/{FLOW}/nodes/{NODE}/preview-samples", "POST",
                   {"expression": body, "field": "body", "limit": 5})["results"]
    assert [r["sample"] for r in expected] == ["first", "second"] and all(r["error"] is None for r in expected)
    assert expected[0]["input"] != order and expected[0]["output"]  # the upstream output, not the raw sample

    page.goto(f"{base}/flows/{FLOW}?workspace={ws}")
    page.wait_for_function("window.__crossdock && window.__crossdock.ready")
    page.locator(f".react-flow__node[data-id='{NODE}']").click()
    page.click("[data-testid=toggle-preview-body]")
    source = page.locator("[data-testid=expr-body] [data-testid=sample-source]")
    expect(source).to_have_attribute("data-state", "upstream")
    expect(source).to_have_attribute("data-sample", "first")
    expect(source).to_contain_text("the output of Ship method to carrier on sample")
    sample = page.locator("[data-testid=expr-body] [data-testid=sample-input]")
    output = page.locator("[data-testid=expr-body] [data-testid=preview-output]")

    def shown(i: int) -> bool:
        try:
            return json.loads(sample.input_value()) == expected[i]["input"] and \
                json.loads(output.inner_text()) == expected[i]["output"]
        except ValueError:  # still "(no output)" or "—"
            return False

    wait_for(lambda: shown(0))
    page.screenshot(path=str(out_dir / "1-upstream-sample.png"))

    source.locator("[data-testid=sample-pick]").select_option("second")
    expect(source).to_have_attribute("data-sample", "second")
    wait_for(lambda: shown(1))
    expect(output).to_contain_text("Second City")

    sample.fill(json.dumps({**expected[1]["input"], "typed": True}))  # typed over: said so, kept
    expect(source).to_have_attribute("data-state", "edited")
