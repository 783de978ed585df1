"""Issue 14: the run inspector names steps by their node's name (step list, step heading, canvas, the run's error) and
fits the whole flow to the canvas when it opens, whatever viewport the version was saved with."""
from __future__ import annotations

import time

from playwright.sync_api import expect

from support import wait_for

NAMES = {"intake": "Order placed", "shape": "Shape the order", "erp": "Post to the ERP"}

# every drawn node inside the canvas pane, and all of the flow's nodes drawn (nodes out of view are not drawn)
ALL_IN_VIEW = """(count) => {
  const pane = document.querySelector('.run-canvas .react-flow').getBoundingClientRect();
  const nodes = [...document.querySelectorAll('.run-canvas .react-flow__node')].map((n) => n.getBoundingClientRect());
  return nodes.length === count && nodes.every((r) => r.width > 0 && r.left >= pane.left - 1 && r.top >= pane.top - 1
    && r.right <= pane.right + 1 && r.bottom <= pane.bottom + 1);
}"""


def spread_flow(flow_id: str, path: str, url: str, order_flow) -> dict:
    """The order flow with named nodes far apart, saved with a viewport that shows none of them."""
    doc = order_flow(flow_id, path, url)
    for node, (x, y) in zip(doc["nodes"], [(40, 40), (1500, 900), (3000, 60)]):
        node["name"] = NAMES[node["id"]]
        node["position"] = {"x": x, "y": y}
    doc["viewport"] = {"x": 4000, "y": 3000, "zoom": 1.5}
    return doc


def test_steps_are_named_by_their_nodes_and_the_flow_fits_the_canvas(page, canvas_api, canvas_url, order_target,
                                                                      order_flow, post_order, out_dir):
    stamp = time.time_ns()
    flow_id, path = f"named-{stamp}", f"named{stamp}"
    canvas_api.create_flow(spread_flow(flow_id, path, order_target.url, order_flow))
    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})
    run_id = post_order(canvas_url, path, f"BAD-{stamp}")  # the ERP answers 500: the run fails at "erp"
    wait_for(lambda: canvas_api.call("GET", f"/runs/{run_id}")["run"]["status"] == "failed")

    page.goto(f"{canvas_url}/runs/{run_id}")
    page.wait_for_function("window.__crossdockRun && window.__crossdockRun.fitted")
    page.wait_for_function(ALL_IN_VIEW, arg=3)
    page.screenshot(path=str(out_dir / "1-fitted.png"))

    steps = page.locator("[data-testid=step-row] [data-testid=step-name]")
    expect(steps).to_have_text([NAMES["intake"], NAMES["shape"], NAMES["erp"]])
    expect(page.locator("[data-testid=step-detail]")).to_have_attribute("data-node-id", "erp")
    expect(page.locator("[data-testid=step-node]")).to_have_text(NAMES["erp"])
    expect(page.locator("[data-testid=run-error]")).to_contain_text(f"at {NAMES['erp']}")
    for node_id, name in NAMES.items():
        expect(page.locator(f".run-canvas .react-flow__node[data-id='{node_id}'] .cd-node-name")).to_have_text(name)

    # another step, picked in the list: its heading and the re-run editor name it too
    page.locator("[data-testid=step-row][data-node-id=shape]").click()
    expect(page.locator("[data-testid=step-node]")).to_have_text(NAMES["shape"])
    page.click("[data-testid=edit-rerun]")
    expect(page.locator("[data-testid=rerun-submit]")).to_have_text(f"Re-run from {NAMES['shape']}")
    page.screenshot(path=str(out_dir / "2-named-steps.png"))
