"""The inspector in a real browser: fields that name a connection or a lookup table offer what the workspace
has and say when the one named is missing; deploy refuses the typo with the node and field; the mapping's
live preview binds the flow's params and a run-shaped `$run`, as the run does."""
from __future__ import annotations

import json
import re
import time

from playwright.sync_api import expect


def node(id, type, x, config, y=120):
    return {"id": id, "type": type, "type_version": 1, "config": config, "position": {"x": x, "y": y}}


def edge(i, source, target, port="out"):
    return {"id": f"e{i}", "source": source, "source_port": port, "target": target, "target_port": "in"}


def release_flow(flow_id: str, tag: str) -> dict:
    """webhook -> map (reads $ship_method, $run) -> lookup -> ERP, with a typo in the connection and the table."""
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": "Release with typos",
            "params": {"ship_method": {"type": "string", "default": "GROUND"}},
            "nodes": [node("intake", "event.webhook", 40, {"path": f"insp/{tag}"}),
                      node("shape", "transform.map", 300, {"expression": "{'via': $ship_method, 'node': $run.node, "
                                                                         "'flow': $run.flow, 'sku': order.sku}"}),
                      node("xref", "transform.lookup", 560, {"table": f"xref_{tag}x", "key": "sku"}),
                      node("unknown", "control.discard", 560, {"reason": "the test needs no exception"}, y=300),
                      node("to_erp", "connector.erp", 820, {"connection": f"erp-{tag}x",
                                                            "operation": "upsert_sales_order"})],
            "edges": [edge(1, "intake", "shape"), edge(2, "shape", "xref"), edge(3, "xref", "to_erp"),
                      edge(4, "xref", "unknown", "not_found")]}


def test_the_inspector_offers_the_workspaces_connections_and_tables_and_marks_a_missing_one(canvas, page, canvas_api):
    tag = str(time.time_ns())[-9:]
    canvas_api.call("PUT", f"/connections/erp-{tag}", {"system": "erp", "base_url": "http://127.0.0.1:9/erp"})
    canvas_api.call("PUT", f"/lookups/xref_{tag}", {"rows": {"A-1": "ITEM-1"}})
    flow_id = f"refs-{tag}"
    canvas_api.create_flow(release_flow(flow_id, tag))
    canvas.open(flow_id)

    # the saved draft warns about both names; deploy refuses the flow, naming node and field
    warnings = page.locator("[data-testid=problems] li.warning")
    expect(page.locator("[data-testid=problems] li[data-node=to_erp][data-code=unknown_connection]")).to_have_count(1)
    expect(page.locator("[data-testid=problems] li[data-node=xref][data-code=unknown_lookup]")).to_have_count(1)
    expect(warnings).to_have_count(2)
    page.click("[data-testid=deploy]")
    expect(page.locator("[data-testid=notice]")).to_contain_text("Deploy refused")
    refused = page.locator("[data-testid=problems] li[data-node=to_erp][data-code=unknown_connection]")
    expect(refused).to_contain_text(f"no connection 'erp-{tag}x' in this workspace; did you mean 'erp-{tag}'?")
    assert canvas_api.call("GET", f"/flows/{flow_id}")["deployed_version"] is None

    # the connection field offers the workspace's connections and keeps the typo selected, marked missing
    canvas.node("to_erp").click()
    field = page.locator("[data-testid=field-connection]")
    expect(field).to_have_value(f"erp-{tag}x")
    options = field.locator("option").all_inner_texts()
    assert f"erp-{tag}" in options and f"erp-{tag}x (missing)" in options, options
    expect(page.locator("[data-testid=field-connection-missing]")).to_contain_text(
        f"No connection “erp-{tag}x” in this workspace")
    canvas.shot("connection-missing")
    field.select_option(f"erp-{tag}")
    expect(page.locator("[data-testid=field-connection-missing]")).to_have_count(0)
    assert next(n for n in canvas.flow()["nodes"] if n["id"] == "to_erp")["config"]["connection"] == f"erp-{tag}"
    assert f"erp-{tag}x (missing)" not in field.locator("option").all_inner_texts()

    canvas.node("xref").click()
    table = page.locator("[data-testid=field-table]")
    expect(page.locator("[data-testid=field-table-missing]")).to_contain_text(f"No lookup table “xref_{tag}x”")
    table.select_option(f"xref_{tag}")
    expect(page.locator("[data-testid=field-table-missing]")).to_have_count(0)
    # checked again as you edit: nothing left unresolved, so the flow deploys
    expect(page.locator("[data-testid=problems] li.problem")).to_have_count(0)
    page.click("[data-testid=deploy]")
    expect(page.locator("[data-testid=deployed]")).to_have_count(1)
    canvas.shot("references-fixed")


def test_the_live_preview_binds_the_flows_params_and_run_like_the_run(canvas, page, canvas_api):
    tag = str(time.time_ns())[-9:]
    flow_id = f"pv-{tag}"
    canvas_api.create_flow(release_flow(flow_id, tag))
    canvas.open(flow_id)
    canvas.node("shape").click()
    page.fill("[data-testid=sample-input]", json.dumps({"order": {"sku": "A-1"}}))
    expected = {"via": "GROUND", "node": "shape", "flow": flow_id, "sku": "A-1"}
    expect(page.locator("[data-testid=preview-output]")).to_have_text(json.dumps(expected, indent=2))
    # an edited expression previews with the same bindings
    canvas.type_expression("expression", "$ship_method & '/' & $run.attempt")
    expect(page.locator("[data-testid=preview-output]")).to_have_text(json.dumps("GROUND/1"))
    expect(page.locator("[data-testid=expr-error]")).to_have_count(0)
    expect(page.locator("[data-testid=preview-engine]")).to_have_text(re.compile(r"^(compiled|interpreter)$"))


def test_a_choice_field_holding_a_param_shows_the_param_not_the_first_choice(canvas, page, canvas_api):
    tag = str(time.time_ns())[-9:]
    doc = release_flow(f"product-{tag}", tag)
    doc["params"]["erp_product"] = {"type": "string", "default": "erp.netsuite"}
    next(n for n in doc["nodes"] if n["id"] == "to_erp")["config"]["product"] = "{{erp_product}}"
    canvas_api.create_flow(doc)
    canvas.open(doc["id"])
    canvas.node("to_erp").click()
    field = page.locator("[data-testid=field-product]")
    expect(field).to_have_value(json.dumps("{{erp_product}}"))
    assert field.evaluate("s => s.options[s.selectedIndex].text") == "{{erp_product}}"
    assert {"erp.business_central", "erp.netsuite"} <= set(field.locator("option").all_inner_texts())
    field.select_option(json.dumps("erp.netsuite"))  # a product picked by name replaces the param
    assert next(n for n in canvas.flow()["nodes"] if n["id"] == "to_erp")["config"]["product"] == "erp.netsuite"
    assert "{{erp_product}}" not in field.locator("option").all_inner_texts()
