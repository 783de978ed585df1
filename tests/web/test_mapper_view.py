"""Acceptance 1 of issue 13, the mapper view in the browser: the bundled order release deployed against the sandbox
systems; its ERP mapping (the ERP node's body) opens in the mapper, a new target field is mapped by dragging a source
field onto it, the order lines' unit of measure goes through a lookup table (created through the API), and the
preview of 5 saved sample orders follows each change, the new field marked as differing from the deployed version.
Saved and deployed from the editor, the next OMS order's ERP sales order carries the field."""
from __future__ import annotations

import copy
import json
import uuid

from playwright.sync_api import expect

from support import wait_for
from support.browser import call

FLOW = "order-release"
NEW_FIELD = "shipTo.contact"  # the ERP keeps its shipTo as sent: a field mapped there shows on the sales order
# the canonical order's unit of measure -> the ERP's: this customer's shop sells these items in dozen packs
UOM = {"EA": "DZ", "PK": "BX", "CASE": "CS"}


def _samples(base: dict) -> dict:
    """Five OMS orders: the template's sample with its number, name and city changed."""
    out = {}
    for i in range(5):
        order = copy.deepcopy(base)
        order.update(id=5002001 + i, name=f"#M-{i + 1}")
        order["shipping_address"]["city"] = f"City {i + 1}"
        out[f"order-{i + 1}"] = order
    return out


def test_a_field_dragged_onto_the_erp_mapping_and_a_uom_lookup_preview_on_five_samples_and_reach_the_erp(
        page, live_server, templated_workspace, out_dir, live_login):
    ws, base, sandbox = templated_workspace, str(live_server), live_server.sandbox_url

    def api(path: str, method: str = "GET", body=None):
        return call(f"{base}/api/v1{path}", method, body, workspace=ws, login=live_login)

    api("/lookups/uom", "PUT", {"rows": UOM})
    doc = api(f"/flows/{FLOW}")["flow"]
    doc["samples"] = _samples(next(iter(doc["samples"].values())))
    api(f"/flows/{FLOW}", "PUT", doc)
    assert api(f"/flows/{FLOW}/deploy", "POST", {})["version"] == 2  # the preview compares with its output
    deployed_body = next(n for n in doc["nodes"] if n["id"] == "erp_order")["config"]["body"]

    # 1. the ERP node's body in the mapper: editable, the canonical order on the left, the ERP body on the right
    page.goto(f"{base}/flows/{FLOW}?workspace={ws}")
    page.wait_for_function("window.__crossdock && window.__crossdock.ready")
    page.locator(".react-flow__node[data-id='erp_order']").click()
    page.click("[data-testid=open-mapper-body]")
    mapper = page.locator("[data-testid=mapper]")
    expect(mapper).to_have_attribute("data-state", "editable")
    expect(mapper.locator("[data-testid=preview-sample]")).to_have_count(5)
    cells = mapper.locator("[data-testid=target-field][data-path='shipTo.city'] [data-testid=preview-cell]")
    expect(cells).to_have_text([f"City {i + 1}" for i in range(5)])
    expect(cells.first).to_have_attribute("data-differs", "false")
    page.screenshot(path=str(out_dir / "1-opened.png"))

    # 2. a target field the ERP schema does not list, mapped by drag and drop from the order's reference; its
    # preview follows for every sample, marked as differing from the deployed version, which does not send it
    mapper.locator("[data-testid=add-target]").fill(NEW_FIELD)
    mapper.locator("[data-testid=add-target]").press("Enter")
    target = mapper.locator(f"[data-testid=target-field][data-path='{NEW_FIELD}']")
    expect(target).to_have_attribute("data-mapped", "false")
    mapper.locator("[data-testid=source-field][data-path='reference']").drag_to(target)
    expect(target).to_have_attribute("data-mapped", "true")
    expect(target.locator("[data-testid=target-rule]")).to_have_text("reference")
    cells = target.locator("[data-testid=preview-cell]")
    expect(cells).to_have_text([f"#M-{i + 1}" for i in range(5)])
    expect(cells.first).to_have_attribute("data-differs", "true")

    # a required field left unmapped is marked in the tree; mapped again by drag and drop
    customer = mapper.locator("[data-testid=target-field][data-path='customerNo']")
    customer.click()
    mapper.locator("[data-testid=rule-remove]").click()
    expect(customer.locator("[data-testid=target-rule]")).to_have_text("required: not mapped")
    mapper.locator("[data-testid=source-field][data-path='customer_no']").drag_to(customer)
    expect(customer.locator("[data-testid=target-rule]")).to_have_text("customer_no")

    # 3. the lines' unit of measure through the lookup table
    uom = mapper.locator("[data-testid=target-field][data-path='lines[].unitOfMeasureCode']")
    uom.click()
    expect(mapper.locator("[data-testid=field-rule]")).to_have_attribute("data-path", "lines[].unitOfMeasureCode")
    expect(uom.locator("[data-testid=preview-cell]")).to_have_text(['["EA","EA"]'] * 5)
    mapper.locator("[data-testid=rule-kind]").select_option("lookup")
    mapper.locator("[data-testid=rule-table]").select_option("uom")
    expect(uom.locator("[data-testid=target-rule]")).to_have_text("lookup uom(uom)")
    uom_cells = uom.locator("[data-testid=preview-cell]")
    expect(uom_cells).to_have_text(['["DZ","DZ"]'] * 5)
    expect(uom_cells.last).to_have_attribute("data-differs", "true")
    page.screenshot(path=str(out_dir / "2-mapped.png"))

    # the node's config holds readable JSONata the mapper reads back as the same mapping
    body = page.evaluate("window.__crossdock.getFlow().nodes.find(n => n.id === 'erp_order').config.body")
    assert body != deployed_body
    assert '"contact": reference' in body and '$lookup("uom", uom)' in body
    parsed = api("/mappings/parse", "POST", {"expression": body})
    assert parsed["editable"] is True
    assert {"target": "unitOfMeasureCode", "rule": {"kind": "lookup", "table": "uom", "path": "uom", "default": None}} \
        in next(a for a in parsed["mapping"]["arrays"] if a["target"] == "lines")["fields"]

    # the JSONata editor stays: its tab shows the same text
    mapper.locator("[data-testid=mapper-tab-jsonata]").click()
    expect(mapper.locator("[data-testid=mapper-jsonata] .cm-content")).to_contain_text('$lookup("uom", uom)')
    mapper.locator("[data-testid=mapper-close]").click()
    expect(mapper).to_have_count(0)

    # 4. save and deploy from the editor; the next order's ERP sales order carries the field
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=save-state]")).to_contain_text("Saved")
    page.click("[data-testid=deploy]")
    expect(page.locator("[data-testid=deployed]")).to_have_text("deployed v3")
    order = call(f"{sandbox}/oms/api/orders", "POST",
                 {"order": {"customer": {"id": 7001}, "line_items": [{"sku": "hw-20620-c", "quantity": 1}]}})["order"]
    [erp] = wait_for(lambda: call(f"{sandbox}/erp/api/sales-orders?externalDocumentNo={order['id']}")["value"],
                     timeout=30)
    assert erp["shipTo"]["contact"] == order["name"]
    assert [(line["unitOfMeasureCode"], line["qtyPerUnitOfMeasure"]) for line in erp["lines"]] == [("DZ", 12)]
    run = api(f"/runs?flow_id={FLOW}&limit=1")["runs"][0]
    assert run["version"] == 3, json.dumps(run)[:500]


ORDERS = {"first": {"order": {"number": "SO-1", "customer": "Acme", "placed": "2026-11-20T10:00:00Z", "weight": 1,
                              "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 3}]}},
          "second": {"order": {"number": "SO-2", "customer": "Bolt", "placed": "2026-11-21T23:30:00Z", "weight": 2.5,
                               "lines": [{"sku": "C", "qty": 7}]}}}
HAND_WRITTEN = "$count(order.lines) > 1\n  ? {'big': true}   /* by hand */\n  : {'big': false}"


def _flow(flow_id: str) -> dict:
    """A manual trigger feeding two maps: one written by hand beyond the mapper, one empty; both read the order."""
    def node(id, type, x, config):
        return {"id": id, "type": type, "type_version": 1, "config": config, "position": {"x": x, "y": 100}}
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": "Mapper by keyboard", "samples": ORDERS,
            "nodes": [node("start", "event.manual", 40, {}),
                      node("by_hand", "transform.map", 320, {"expression": HAND_WRITTEN}),
                      node("shape", "transform.map", 600, {"expression": "{}"})],
            "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "by_hand", "target_port": "in"},
                      {"id": "e2", "source": "start", "source_port": "out", "target": "shape", "target_port": "in"}]}


def test_the_mapper_maps_by_keyboard_builds_lists_and_rules_and_shows_a_hand_written_expression_read_only(
        canvas, page, canvas_api):
    flow_id = f"mapper-keys-{uuid.uuid4().hex[:8]}"
    canvas_api.create_flow(_flow(flow_id))
    canvas.open(flow_id)

    def expression(node_id: str) -> str:
        return page.evaluate(f"window.__crossdock.getFlow().nodes.find(n => n.id === '{node_id}').config.expression")

    # an expression beyond the mapper opens read only with the reason, and stays byte for byte as written
    canvas.node("by_hand").click()
    page.click("[data-testid=open-mapper-expression]")
    mapper = page.locator("[data-testid=mapper]")
    expect(mapper).to_have_attribute("data-state", "beyond")
    expect(mapper.locator("[data-testid=mapper-note]")).to_contain_text("read only")
    expect(mapper.locator("[data-testid=source-field][data-path='order.number']")).to_have_attribute("draggable", "false")
    mapper.locator("[data-testid=mapper-tab-jsonata]").click()
    expect(mapper.locator("[data-testid=mapper-jsonata] .cm-content")).to_contain_text("/* by hand */")
    mapper.locator("[data-testid=mapper-close]").click()
    assert expression("by_hand") == HAND_WRITTEN
    expect(page.locator("[data-testid=save-state]")).not_to_contain_text("Unsaved")

    # the keyboard way: a source field picked with Enter, placed on a target field with Enter
    canvas.node("shape").click()
    page.click("[data-testid=open-mapper-expression]")
    expect(mapper).to_have_attribute("data-state", "editable")
    expect(mapper.locator("[data-testid=preview-sample]")).to_have_count(2)
    add = mapper.locator("[data-testid=add-target]")
    for name in ("ref", "kind", "total", "lines[].sku"):
        add.fill(name)
        add.press("Enter")
    mapper.locator("[data-testid=source-field][data-path='order.number']").press("Enter")
    expect(mapper.locator("[data-testid=source-picked]")).to_contain_text("order.number")
    ref = mapper.locator("[data-testid=target-field][data-path='ref']")
    ref.press("Enter")
    expect(ref.locator("[data-testid=target-rule]")).to_have_text("order.number")
    expect(ref.locator("[data-testid=preview-cell]")).to_have_text(["SO-1", "SO-2"])
    ref.press("Delete")  # the canvas's shortcuts do not reach behind the mapper: the node stays
    assert [n["id"] for n in canvas.flow()["nodes"]] == ["start", "by_hand", "shape"]

    # lists map element by element: a source element's field dropped into the target list
    sku = mapper.locator("[data-testid=target-field][data-path='lines[].sku']")
    mapper.locator("[data-testid=source-field][data-path='order.lines[].sku']").drag_to(sku)
    expect(mapper.locator("[data-testid=target-field][data-path='lines'] [data-testid=target-rule]")).to_have_text(
        "each of order.lines")
    expect(sku.locator("[data-testid=preview-cell]")).to_have_text(['["A","B"]', '["C"]'])

    # no-code rules: a constant, a sum over the lines
    mapper.locator("[data-testid=target-field][data-path='kind']").click()
    mapper.locator("[data-testid=rule-kind]").select_option("constant")
    mapper.locator("[data-testid=rule-value]").fill("sales order")
    mapper.locator("[data-testid=target-field][data-path='total']").click()
    mapper.locator("[data-testid=rule-kind]").select_option("sum")
    mapper.locator("[data-testid=rule-array]").fill("order.lines")
    mapper.locator("[data-testid=rule-path]").fill("qty")
    expect(mapper.locator("[data-testid=target-field][data-path='total'] [data-testid=preview-cell]")).to_have_text(
        ["5", "7"])
    expect(mapper.locator("[data-testid=target-field][data-path='kind'] [data-testid=preview-cell]")).to_have_text(
        ["sales order"] * 2)
    expect(mapper.locator("[data-testid=mapper-problem]")).to_have_count(0)

    # the node keeps readable JSONata, read back as the same mapping when the mapper opens again
    written = expression("shape")
    parsed = canvas_api.call("POST", "/mappings/parse", {"expression": written})
    assert parsed["editable"] is True
    assert parsed["mapping"]["fields"] == [
        {"target": "ref", "rule": {"kind": "field", "path": "order.number"}},
        {"target": "kind", "rule": {"kind": "constant", "value": "sales order"}},
        {"target": "total", "rule": {"kind": "sum", "array": "order.lines", "path": "qty"}}]
    assert parsed["mapping"]["arrays"] == [
        {"target": "lines", "source": "order.lines", "fields": [{"target": "sku", "rule": {"kind": "field", "path": "sku"}}]}]
    mapper.locator("[data-testid=mapper-close]").click()
    page.click("[data-testid=open-mapper-expression]")
    expect(mapper.locator("[data-testid=target-field][data-path='total'] [data-testid=target-rule]")).to_have_text(
        "sum order.lines.qty")
    assert expression("shape") == written


def test_each_rule_form_writes_a_rule_the_preview_evaluates(canvas, page, canvas_api):
    """Concatenate, default, date format, number and unit conversion, if/then/else: each form, filled in, compiles
    (no problem shown) and its values show per sample."""
    flow_id = f"mapper-rules-{uuid.uuid4().hex[:8]}"
    canvas_api.create_flow(_flow(flow_id))
    canvas.open(flow_id)
    canvas.node("shape").click()
    page.click("[data-testid=open-mapper-expression]")
    mapper = page.locator("[data-testid=mapper]")
    expect(mapper).to_have_attribute("data-state", "editable")
    mapper.locator("[data-testid=add-target]").fill("x")
    mapper.locator("[data-testid=add-target]").press("Enter")
    x = mapper.locator("[data-testid=target-field][data-path='x']")
    cells = x.locator("[data-testid=preview-cell]")
    problem = mapper.locator("[data-testid=mapper-problem]")

    def kind(name: str, **inputs: str) -> None:
        mapper.locator("[data-testid=rule-kind]").select_option(name)
        for testid, value in inputs.items():
            mapper.locator(f"[data-testid={testid.replace('_', '-')}]").fill(value)

    kind("concat", rule_part_0_path="order.number", rule_part_1_value="x", rule_separator="-")
    expect(cells).to_have_text(["SO-1-x", "SO-2-x"])
    kind("default", rule_path="order.note", rule_value="none")
    expect(cells).to_have_text(["none", "none"])
    kind("date", rule_path="order.placed")
    expect(cells).to_have_text(["2026-11-20", "2026-11-21"])
    kind("number", rule_path="order.weight", rule_multiply="4", rule_round="0")
    expect(cells).to_have_text(["4", "10"])
    kind("unit", rule_path="order.weight")
    mapper.locator("[data-testid=rule-from]").select_option("kg")
    mapper.locator("[data-testid=rule-to]").select_option("g")
    expect(cells).to_have_text(["1000", "2500"])
    kind("if", rule_path="order.weight", rule_equals="1", rule_then_value="light")
    expect(x.locator("[data-testid=target-rule]")).to_have_text('if order.weight = 1 then "light" else order.weight')
    expect(cells).to_have_text(["light", "2.5"])
    expect(problem).to_have_count(0)
    mapper.locator("[data-testid=rule-remove]").click()
    expect(x).to_have_attribute("data-mapped", "false")
    # the node's expression follows once the compile answers (a loaded machine answers late)
    page.wait_for_function("() => window.__crossdock.getFlow().nodes.find(n => n.id === 'shape').config.expression"
                           " === '{}'", timeout=15_000)
