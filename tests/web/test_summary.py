"""web/src/editor/summary.ts: the line under a node's title is its type's SPEC summary template filled from the
node's config; the renderer is run in the page itself (Chromium), through the editor's test hook."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from flows.jsonschema import json_schema
from nodes import catalog

SCHEMA = {"type": "object", "properties": {
    "method": {"type": "string", "default": "POST"},
    "path": {"type": "string"},
    "token": {"type": "string", "writeOnly": True},
    "auth": {"$ref": "#/definitions/Auth"},
}, "definitions": {"Auth": {"type": "object", "properties": {"user": {"type": "string", "default": "svc"}}}}}

CASES = [
    # template, config, expected
    ("{{method}} /{{path}}", {"method": "GET", "path": "orders"}, "GET /orders"),
    ("{{method}} /{{path}}", {"path": "orders"}, "POST /orders"),  # left out of the document: the schema default
    ("{{operation}}[ on {{connection}}]", {"operation": "post_order"}, "post_order"),
    ("{{operation}}[ on {{connection}}]", {"operation": "post_order", "connection": "erp"}, "post_order on erp"),
    ("{{operation}}[ on {{connection}}]", {"operation": "post_order", "connection": ""}, "post_order"),
    ("{{rules#}} rules, first match wins", {"rules": [{"port": "a"}, {"port": "b"}]}, "2 rules, first match wins"),
    ("{{headers#}} headers", {"headers": {"a": "1", "b": "2", "c": "3"}}, "3 headers"),
    ("[{{rules#}} rules]", {}, ""),
    ("{{a.b}} and {{a.c}}", {"a": {"b": 1, "c": {"d": True}}}, '1 and {"d":true}'),
    ("as {{auth.user}}", {}, "as svc"),  # a default behind a $ref
    ("key[ {{token}}]", {"token": "s3cret"}, "key"),  # a secret is never drawn
    ("{{expression}}", {"expression": "{{path}} [x]"}, "{{path}} [x]"),  # a value is text, never a template
    ("{{expression}}", {"expression": "{\n  'a':   1\n}"}, "{ 'a': 1 }"),
    ("{{expression}}", {"expression": "x" * 100}, "x" * 47 + "…"),
    ("", {"path": "orders"}, ""),
    ("cron {{cron}}", {"cron": 5}, "cron 5"),
]


@pytest.fixture
def editor(canvas, canvas_api):
    flow_id = f"summary-{time.time_ns()}"
    canvas_api.create_flow({"schema": "crossdock.flow/1", "id": flow_id, "name": "Summaries", "nodes": [
        {"id": "hook", "type": "event.webhook", "type_version": 1, "config": {"path": f"s-{time.time_ns()}"},
         "position": {"x": 40, "y": 40}},
        {"id": "map", "type": "transform.map", "type_version": 1,
         "config": {"expression": "{\n  'order': number,\n  'lines': lines.{'sku': sku, 'qty': quantity}\n}"},
         "position": {"x": 320, "y": 40}},
        {"id": "route", "type": "branch.choice", "type_version": 1,
         "config": {"rules": [{"port": "big", "when": "total > 1000"}, {"port": "gold", "when": "tier = 'gold'"}]},
         "position": {"x": 600, "y": 40}},
        {"id": "once", "type": "control.dedupe", "type_version": 1, "config": {"key": "number"},
         "position": {"x": 40, "y": 260}},
        {"id": "shared", "type": "control.dedupe", "type_version": 1, "config": {"key": "number", "scope": "orders"},
         "position": {"x": 320, "y": 260}},
        {"id": "manual", "type": "event.manual", "type_version": 1, "config": {}, "position": {"x": 600, "y": 260}},
    ], "edges": []})
    canvas.open(flow_id)
    return canvas


def test_the_renderer_fills_a_template_from_the_config(editor, page):
    got = page.evaluate("([cases, schema]) => cases.map(([t, c]) => window.__crossdock.renderSummary(t, c, schema))",
                        [[[t, c] for t, c, _ in CASES], SCHEMA])
    assert got == [want for _, _, want in CASES]


def test_each_node_shows_its_types_summary(editor):
    expect(editor.node("hook").locator(".cd-node-summary")).to_have_text(re.compile(r"^POST /s-\d+$"))  # default method
    expected = {
        "map": "{ 'order': number, 'lines': lines.{'sku': sku, …",
        "route": "2 rules, first match wins",
        "once": "key number",
        "shared": "key number in orders",
    }
    for node_id, text in expected.items():
        expect(editor.node(node_id).locator(".cd-node-summary")).to_have_text(text)
    expect(editor.node("manual").locator(".cd-node-summary")).to_have_count(0)  # no sample: the section is dropped


PLACEHOLDER = re.compile(r"\{\{\s*([^{}#]+?)\s*(#?)\s*\}\}")


def test_every_summary_template_names_fields_of_its_config():
    """A template over a field its type does not have would draw nothing, silently."""
    for spec in catalog.specs().values():
        schema = json_schema(spec.config)
        for path, count in PLACEHOLDER.findall(spec.summary):
            field = schema["properties"].get(path.split(".")[0])
            assert field is not None, f"{spec.type}: summary names {path}, not a config field"
            if count:
                assert field.get("type") in ("array", "object"), f"{spec.type}: {path}# counts a list or object"
        assert spec.summary.count("[") == spec.summary.count("]"), spec.type


def test_every_node_type_but_connectors_has_a_summary():
    """Connector summaries come with their product profiles (nodes/connector_*.py)."""
    missing = [t for t, spec in catalog.specs().items() if spec.category != "connector" and not spec.summary]
    assert not missing, f"node types without a summary template: {missing}"
