"""The mapping preview evaluates a node's expression as its run does: the flow's params with their values,
`$run` of the run-time shape, the node's own prepare and run for a mapping (allow_empty included), and
any other expression field (a filter's condition, a router's rule) with the same bindings."""
from __future__ import annotations

from support import wait_for
from support.flowdocs import edge

PREVIEW = "/api/v1/preview/map"
FLOWS = "/api/v1/flows"
MAPPING = "{'method': $ship_method, 'split': $partial, 'run': $run, 'n': number}"


def flow(flow_id: str = "pv", expression: str = MAPPING, **map_config) -> dict:
    """webhook -> map -> filter -> discard: params with defaults, a mapping that shows them and `$run`."""
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
            "params": {"ship_method": {"type": "string", "default": "GROUND"},
                       "partial": {"type": "boolean", "default": True}},
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": f"{flow_id}/in"}},
                      {"id": "canonical", "type": "transform.map",
                       "config": {"expression": expression, **map_config}},
                      {"id": "big", "type": "branch.filter", "config": {"when": "n > 10 and $partial"}},
                      {"id": "done", "type": "control.discard", "config": {"reason": "the test reads the steps"}}],
            "edges": [edge(1, "hook", "canonical"), edge(2, "canonical", "big"), edge(3, "big", "done")]}


def test_a_node_of_a_saved_flow_previews_with_the_flows_params_and_a_run_shaped_run(api):
    assert api.post(FLOWS, json=flow()).status_code == 201
    r = api.post(PREVIEW, json={"flow_id": "pv", "node": "canonical", "expression": MAPPING,
                                "input": {"number": 7}})
    assert r.status_code == 200, r.json
    assert r.json["output"] == {"method": "GROUND", "split": True, "n": 7,
                                "run": {"id": "preview", "flow": "pv", "node": "canonical", "attempt": 1}}
    # the legacy body (no node) knows no flow: its params are only those sent
    legacy = api.post(PREVIEW, json={"expression": MAPPING, "input": {"number": 7}}).json["output"]
    assert "method" not in legacy and legacy["run"]["flow"] is None


def test_the_editors_unsaved_document_is_previewed_and_explicit_params_override_its_values(api):
    doc = flow("unsaved")
    doc["params"]["ship_method"]["default"] = "EXPRESS"
    r = api.post(PREVIEW, json={"flow": doc, "node": "canonical", "expression": "$ship_method & '/' & number",
                                "input": {"number": 1}})
    assert r.json["output"] == "EXPRESS/1"
    r = api.post(PREVIEW, json={"flow": doc, "node": "canonical", "expression": "$ship_method",
                                "params": {"ship_method": "FREIGHT"}})
    assert r.json["output"] == "FREIGHT"


def test_a_mapping_previews_through_its_own_run_so_allow_empty_false_fails_as_the_step_would(api):
    doc = flow("empty", allow_empty=False)
    r = api.post(PREVIEW, json={"flow": doc, "node": "canonical", "expression": "missing", "input": {}})
    assert r.status_code == 422 and r.json["error"]["code"] == "mapping_error"
    assert r.json["error"]["details"] == [{"field": "expression", "code": "mapping_empty",
                                           "message": "the mapping produced no result"}]
    ok = api.post(PREVIEW, json={"flow": flow("empty2"), "node": "canonical", "expression": "missing", "input": {}})
    assert ok.status_code == 200 and ok.json["output"] is None


def test_another_expression_field_previews_with_the_same_bindings(api):
    doc = flow("cond")
    doc["nodes"].append({"id": "route", "type": "branch.choice", "config": {
        "rules": [{"port": "a", "when": "false"}, {"port": "b", "when": "$partial"}]}})
    r = api.post(PREVIEW, json={"flow": doc, "node": "big", "expression": "n > 10 and $partial", "input": {"n": 11}})
    assert (r.status_code, r.json["output"]) == (200, True)
    r = api.post(PREVIEW, json={"flow": doc, "node": "route", "field": "rules[1].when",
                                "expression": "$run.node & ':' & $string($partial)", "input": {}})
    assert (r.status_code, r.json["output"]) == (200, "route:true")


def test_a_bad_node_reference_is_a_4xx_naming_the_argument(api):
    api.post(FLOWS, json=flow("ref"))
    cases = (({"flow_id": "nope", "node": "canonical"}, 404, "not_found", None),
             ({"flow_id": "ref", "node": "ghost"}, 400, "invalid_argument", [{"field": "node"}]),
             ({"flow_id": "ref", "node": "hook"}, 400, "invalid_argument", [{"field": "field"}]),
             ({"flow_id": "ref", "node": "canonical", "field": "allow_empty"}, 400, "invalid_argument",
              [{"field": "field"}]),
             ({"node": "canonical"}, 400, "invalid_argument", [{"field": "flow_id"}]),
             ({"flow_id": 5}, 400, "invalid_argument", [{"field": "flow_id"}]),
             ({"flow": [1]}, 400, "invalid_argument", [{"field": "flow"}]),
             ({"flow": {"params": [1], "nodes": "x"}, "node": "a"}, 400, "invalid_argument", [{"field": "node"}]))
    for extra, status, code, details in cases:
        r = api.post(PREVIEW, json={"expression": "1", **extra})
        assert (r.status_code, r.json["error"]["code"]) == (status, code), extra
        if details is not None:
            assert r.json["error"]["details"] == details, extra


def test_a_half_edited_document_still_previews(api):
    """The editor sends what it holds: the flow id, its params and the one node, possibly half typed."""
    node = {"id": "m", "type": "transform.map", "config": {"expression": "x"}}
    for params, expected in (([1], None), ({"p": "text"}, None), ({"p": {"default": 3}}, 3), (None, None)):
        r = api.post(PREVIEW, json={"flow": {"id": "f", "params": params, "nodes": [node]}, "node": "m",
                                    "expression": "$p"})
        assert (r.status_code, r.json["output"]) == (200, expected), params


def test_preview_and_a_deployed_run_give_the_same_output(client, workspace):
    """The unit form of tests/golden/test_preview_equals_run.py: one mapping that reads params and `$run`."""
    expression = "{'method': $ship_method, 'split': $partial, 'node': $run.node, 'flow': $run.flow, 'n': number}"
    doc = flow("same", expression)
    assert client.post(FLOWS, json=doc).status_code == 201
    assert client.post(f"{FLOWS}/same/deploy", json={}).status_code == 201, client.post(f"{FLOWS}/validate",
                                                                                         json=doc).json
    run_id = client.post(f"/hooks/{workspace}/same/in", json={"number": 12}).json["run_id"]
    run = wait_for(lambda: (lambda r: r if r["status"] in ("succeeded", "failed") else None)(
        client.get(f"/api/v1/runs/{run_id}").json["run"]))
    [step] = [s for s in run["steps"] if s["node_id"] == "canonical"]
    preview = client.post(PREVIEW, json={"flow_id": "same", "node": "canonical", "expression": expression,
                                         "input": step["input"]})
    assert preview.json["output"] == step["output"]
    assert step["output"] == {"method": "GROUND", "split": True, "node": "canonical", "flow": "same", "n": 12}
