"""Golden: preview equals run. Every sample record of every bundled template is delivered to the installed
flow against the sandbox systems; then each step of an expression-bearing node that the preview can judge is
previewed through POST /api/v1/preview/map (flow id + node id, the step's recorded input) and compared with
what the run did:

- transform.map: the preview's output equals the step's output (or both fail with the same code);
- branch.filter: the condition previews truthy exactly when the step passed the message on;
- branch.choice: the first rule that previews truthy is the port the step took (else `otherwise`);
- control.dead_letter: class, message and field preview to the exception the step raised.

No template expression reads a volatile value ($now(), $millis(), $random()); the test asserts that, so
nothing needs ignoring. Connector bodies are not compared: a connector's step output is the system's answer.
"""
from __future__ import annotations

import json
import re

import pytest

from designer import templates
from nodes.branch_choice import truthy

PREVIEW = "/api/v1/preview/map"
# (template, sample) -> webhook path, or None for a manual run of the flow (its event.manual trigger)
DELIVERIES = {
    "order-release": [("order", "oms/orders")],
    "inventory-sync": [("event", "wms/inventory-events"), (None, None)],
    "shipment-confirmation": [("shipment", "wms/shipments")],
    "returns": [("return", "oms/returns"), ("receipt", "wms/receipts")],
    "edi-order-intake": [("purchase_order", "edi/orders")],
    "edi-asn-out": [("shipment", "wms/shipments-edi")],
}
JUDGED = ("transform.map", "branch.filter", "branch.choice", "control.dead_letter")
VOLATILE = re.compile(r"\$(now|millis|random)\s*\(")


@pytest.fixture
def runs(crossdock, client):
    """Each template's runs, after delivering each of its samples once."""
    out = {}
    for bundle in templates.bundled():
        flow_id = bundle["flow"]["id"]
        assert sorted(s for s, _ in DELIVERIES[flow_id] if s) == sorted(bundle["samples"]), flow_id
        out[flow_id] = []
        for sample, path in DELIVERIES[flow_id]:
            if path is None:
                r = client.post(f"/api/v1/flows/{flow_id}/runs", json={})
                assert r.status_code == 202, r.json
                run_id = r.json["run"]["id"]
            else:
                run_id = crossdock.hook(path, bundle["samples"][sample])
            crossdock.finished(run_id)
            out[flow_id].append(client.get(f"/api/v1/runs/{run_id}").json["run"])
    return out


def test_every_mapping_of_every_bundled_template_previews_as_it_runs(runs, client):
    judged: dict[str, set[str]] = {}
    for bundle in templates.bundled():
        flow = bundle["flow"]
        nodes = {n["id"]: n for n in flow["nodes"]}
        for node in flow["nodes"]:
            for value in _strings(node["config"]):
                assert not VOLATILE.search(value), f"{flow['id']}.{node['id']} reads a volatile value: {value}"
        for run in runs[flow["id"]]:
            for step in run["steps"]:
                node = nodes[step["node_id"]]
                if node["type"] not in JUDGED:
                    continue
                _judge(client, flow["id"], node, _whole(client, run["id"], step))
                judged.setdefault(flow["id"], set()).add(node["id"])
    for bundle in templates.bundled():  # every mapping of every template was compared at least once
        maps = {n["id"] for n in bundle["flow"]["nodes"] if n["type"] == "transform.map"}
        assert maps and maps <= judged.get(bundle["flow"]["id"], set()), (bundle["id"], maps - judged.get(
            bundle["flow"]["id"], set()))


def _judge(client, flow_id: str, node: dict, step: dict) -> None:
    where = f"{flow_id}.{node['id']}"
    config = node["config"]
    if node["type"] == "transform.map":
        r = _preview(client, flow_id, node["id"], "expression", config["expression"], step["input"])
        if step["status"] == "succeeded":
            assert r.status_code == 200, (where, r.json)
            assert r.json["output"] == step["output"], where
        else:
            assert r.status_code == 422 and r.json["error"]["details"][0]["code"] == step["error"]["details"]["code"]
    elif node["type"] == "branch.filter":
        r = _preview(client, flow_id, node["id"], "when", config["when"], step["input"])
        assert r.status_code == 200, (where, r.json)
        assert truthy(r.json["output"]) == (step["port"] == "out"), (where, r.json["output"], step["port"])
    elif node["type"] == "branch.choice":
        port = "otherwise"
        for i, rule in enumerate(config["rules"]):
            r = _preview(client, flow_id, node["id"], f"rules[{i}].when", rule["when"], step["input"])
            assert r.status_code == 200, (where, i, r.json)
            if truthy(r.json["output"]):
                port = rule["port"]
                break
        assert step["port"] == port, where
    elif node["type"] == "control.dead_letter":
        defaults = {"business_class": "rejection.class",
                    "message": "$join(rejection.problems.(field & ': ' & message), '; ')", "field": "rejection.field"}
        got = {name: _preview(client, flow_id, node["id"], name, config.get(name, source), step["input"]).json["output"]
               for name, source in defaults.items()}
        assert (step["error"]["code"], step["error"]["message"], step["error"].get("field")) == (
            got["business_class"], got["message"], got["field"]), where


def _preview(client, flow_id: str, node_id: str, field: str, expression: str, data):
    return client.post(PREVIEW, json={"flow_id": flow_id, "node": node_id, "field": field,
                                      "expression": expression, "input": data})


def _whole(client, run_id: int, step: dict) -> dict:
    """The step with its whole input and output (a large one is truncated in the step row)."""
    if not step.get("truncated"):
        return step
    full = dict(step)
    for kind in ("input", "output"):
        r = client.get(f"/api/v1/runs/{run_id}/steps/{step['seq']}/{kind}")
        if r.status_code == 200:
            full[kind] = r.json["data"]
    return full


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
