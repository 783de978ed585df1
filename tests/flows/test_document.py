import copy
import json
import math
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import document
from flows.document import dump, dumps, load

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "flows" / "samples"


def test_sample_flow_loads_clean_and_is_stored_in_dump_form(sample_flow):
    doc, problems = load(sample_flow)
    assert problems == []
    assert doc == sample_flow
    assert (SAMPLES / "order-sync.json").read_text() == dumps(doc)


def test_defaults_are_filled(flow):
    doc, problems = load(flow)
    assert problems == []
    node = doc["nodes"][0]
    assert node["type_version"] == 1
    assert node["name"] == "in"
    assert node["notes"] == ""
    assert node["position"] == {"x": 0, "y": 0}
    assert doc["name"] == "mini"
    assert doc["params"] == {}
    assert doc["settings"] == {}  # retry left to the runtime's installation-wide policy
    flow["nodes"][0].pop("config")
    assert load(flow)[0]["nodes"][0]["config"] == {}


def test_given_values_are_kept(flow):
    flow["nodes"][1].update(name="Map it", type_version=3, position={"x": 1.5, "y": -2}, disabled=True)
    flow["settings"] = {"sequence_key": "order.number", "retry": {"max_attempts": 1}}
    doc, _ = load(flow)
    assert doc["nodes"][1]["name"] == "Map it"
    assert doc["nodes"][1]["type_version"] == 3
    assert doc["nodes"][1]["position"] == {"x": 1.5, "y": -2}
    assert doc["nodes"][1]["disabled"] is True
    assert doc["settings"] == {"sequence_key": "order.number", "retry": {"max_attempts": 1}}


def test_loaded_document_shares_nothing_with_the_input(flow):
    doc, _ = load(flow)
    doc["nodes"][1]["config"]["expression"] = "changed"
    assert flow["nodes"][1]["config"]["expression"] == "order"


def _set(path):
    """A mutation that sets the value at a (key, index, ...) path, or deletes it when value is DELETE."""
    def mutate(doc, value):
        *head, last = path
        for key in head:
            doc = doc[key]
        if value is DELETE:
            del doc[last]
        else:
            doc[last] = value
    return mutate


DELETE = object()

CASES = [
    # (path to change, new value, expected problem field, node, edge)
    (("nodes", 2, "type"), DELETE, "nodes[2].type", "out", None),
    (("nodes", 0, "type"), 5, "nodes[0].type", "in", None),
    # an id the schema rejects still names the node: the canvas holds it under that id
    (("nodes", 0, "id"), "a b", "nodes[0].id", "a b", None),
    (("nodes", 0, "id"), "x" * 65, "nodes[0].id", "x" * 65, None),
    (("nodes", 1, "colour"), "red", "nodes[1].colour", "map", None),
    (("nodes", 1, "type_version"), "1", "nodes[1].type_version", "map", None),
    (("nodes", 1, "type_version"), True, "nodes[1].type_version", "map", None),
    (("nodes", 1, "type_version"), 0, "nodes[1].type_version", "map", None),
    (("nodes", 1, "position"), {"x": "1", "y": 2}, "nodes[1].position.x", "map", None),
    (("nodes", 1, "position"), {"x": math.nan, "y": 2}, "nodes[1].position.x", "map", None),
    (("nodes", 1, "position"), {"x": 1}, "nodes[1].position.y", "map", None),
    (("nodes", 1, "config"), ["expression"], "nodes[1].config", "map", None),
    (("nodes", 1, "disabled"), "yes", "nodes[1].disabled", "map", None),
    (("nodes", 1, "name"), None, "nodes[1].name", "map", None),
    (("nodes", 1), "map", "nodes[1]", None, None),
    (("edges", 0, "source_port"), DELETE, "edges[0].source_port", None, "e1"),
    (("edges", 1, "target"), "no such!", "edges[1].target", None, "e2"),
    (("edges", 1, "weight"), 1, "edges[1].weight", None, "e2"),
    (("edges",), {"e1": {}}, "edges", None, None),
    (("nodes",), None, "nodes", None, None),
    (("schema",), DELETE, "schema", None, None),
    (("schema",), "crossdock.flow/9", "schema", None, None),
    (("id",), "", "id", None, None),
    (("id",), 7, "id", None, None),
    (("name",), ["x"], "name", None, None),
    (("owner",), "me", "owner", None, None),
    (("params",), {"bad name": {"type": "string"}}, 'params["bad name"]', None, None),
    (("params",), {"p": {"type": "text"}}, "params.p.type", None, None),
    (("params",), {"p": {"type": "integer", "default": "5"}}, "params.p.default", None, None),
    (("params",), {"p": {"type": "boolean", "default": 1}}, "params.p.default", None, None),
    (("params",), {"p": {"type": "string", "secret": "yes"}}, "params.p.secret", None, None),
    (("params",), {"p": {"kind": "string"}}, "params.p.kind", None, None),
    (("settings",), {"sequence_key": 5}, "settings.sequence_key", None, None),
    (("settings",), {"priority": 1}, "settings.priority", None, None),
    (("settings",), {"retry": {"max_attempts": 0}}, "settings.retry.max_attempts", None, None),
    (("settings",), {"retry": {"backoff_s": "2"}}, "settings.retry.backoff_s", None, None),
    (("viewport",), {"x": 0, "y": 0, "zoom": 0}, "viewport.zoom", None, None),
    (("viewport",), {"x": 0, "y": 0}, "viewport.zoom", None, None),
    (("samples",), [1], "samples", None, None),
]


@pytest.mark.parametrize("path,value,field,node,edge", CASES, ids=[c[2] for c in CASES])
def test_schema_problem_names_its_json_path(flow, path, value, field, node, edge):
    _set(path)(flow, value)
    doc, problems = load(flow)
    assert doc is None
    assert [(p.field, p.node, p.edge) for p in problems] == [(field, node, edge)]
    assert problems[0].code == "invalid_document"
    assert problems[0].message


def test_several_problems_are_all_reported(flow):
    flow["nodes"][0]["type"] = 1
    flow["edges"][1]["id"] = "e 2"
    flow["extra"] = True
    _, problems = load(flow)
    assert sorted(p.field for p in problems) == ["edges[1].id", "extra", "nodes[0].type"]


def test_duplicate_node_and_edge_ids_are_problems(flow):
    flow["nodes"].append({"id": "map", "type": "transform.map"})
    flow["edges"].append(dict(flow["edges"][0]))
    doc, problems = load(flow)
    assert doc is None
    assert [(p.field, p.node, p.edge) for p in problems] == [("nodes[3].id", "map", None), ("edges[2].id", None, "e1")]
    assert {p.code for p in problems} == {"invalid_document"}


@pytest.mark.parametrize("garbage", [None, [], "flow", 5, 1.5, b"{}", ["schema"], True])
def test_a_document_that_is_not_an_object_is_one_problem(garbage):
    doc, problems = load(garbage)
    assert doc is None
    assert [(p.code, p.field) for p in problems] == [("invalid_document", None)]


def test_optional_keys_stay_absent(flow):
    doc, _ = load(flow)
    assert "viewport" not in doc and "samples" not in doc
    assert "disabled" not in doc["nodes"][0]
    assert "sequence_key" not in doc["settings"] and "business_key" not in doc["settings"]


def test_viewport_and_samples_are_kept(flow):
    flow["viewport"] = {"x": -10, "y": 4.5, "zoom": 0.75}
    flow["samples"] = {"PO 4711": {"order": {"number": "4711"}}, "empty": None}
    doc, problems = load(flow)
    assert problems == []
    assert doc["viewport"] == flow["viewport"] and doc["samples"] == flow["samples"]


def test_dump_orders_keys_whatever_the_input_order(sample_flow):
    scrambled = _reverse_keys(sample_flow)
    assert list(scrambled) != list(sample_flow)
    out = dump(scrambled)
    assert json.dumps(out) == json.dumps(dump(sample_flow))
    assert list(out) == ["schema", "id", "name", "description", "params", "settings", "nodes", "edges"]
    assert list(out["nodes"][0]) == ["id", "type", "type_version", "name", "notes", "position", "config"]
    assert list(out["edges"][0]) == ["id", "source", "source_port", "target", "target_port"]
    assert list(out["settings"]) == ["sequence_key", "business_key", "retry", "correlation", "thread_label"]
    assert list(out["params"]["erp_url"]) == ["type", "default", "description", "required"]


def test_dump_keeps_node_and_edge_order_and_sorts_params_and_config(flow):
    flow["nodes"].reverse()
    flow["edges"].reverse()
    flow["params"] = {"zeta": {"type": "string"}, "alpha": {"type": "number"}}
    flow["nodes"][0]["config"] = {"url": "u", "headers": {"b": "2", "a": "1"}, "body": "$"}
    out = dump(flow)
    assert [n["id"] for n in out["nodes"]] == ["out", "map", "in"]
    assert [e["id"] for e in out["edges"]] == ["e2", "e1"]
    assert list(out["params"]) == ["alpha", "zeta"]
    assert list(out["nodes"][0]["config"]) == ["body", "headers", "url"]
    assert list(out["nodes"][0]["config"]["headers"]) == ["a", "b"]


def test_dump_puts_unknown_keys_last_in_sorted_order():
    out = dump({"zz": 1, "id": "f", "aa": 2, "schema": "s"})
    assert list(out) == ["schema", "id", "aa", "zz"]


def test_dumps_round_trips_stably(sample_flow):
    text = dumps(sample_flow)
    assert text.endswith("}\n")
    assert dumps(load(json.loads(text))[0]) == text


def test_error_paths_walks_dict_values_without_key_value_wrappers():
    messages = {"params": {"p": {"value": {"type": ["bad"]}, "key": ["worse"]}}, "nodes": {0: {"_schema": ["x"]}}}
    assert document.error_paths(messages, document.FlowSchema()) == [
        ("params.p", "worse"), ("params.p.type", "bad"), ("nodes[0]", "x")]


def _reverse_keys(value):
    if isinstance(value, dict):
        return {k: _reverse_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(v) for v in value]
    return value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_load_never_raises_on_any_json(value):
    doc, problems = load(value)
    assert (doc is None) == bool(problems)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_load_never_raises_when_parts_of_a_valid_flow_are_replaced(data):
    flow = json.loads((SAMPLES / "order-sync.json").read_text())
    target = flow
    for _ in range(data.draw(st.integers(0, 3))):
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        if not isinstance(target[key], (dict, list)):
            break
        target = target[key]
    keys = list(target) if isinstance(target, dict) else list(range(len(target)))
    if keys:
        target[data.draw(st.sampled_from(keys))] = data.draw(json_values)
    doc, problems = load(copy.deepcopy(flow))
    assert (doc is None) == bool(problems)
    assert all(p.code == "invalid_document" for p in problems)


# The quick path reads well-formed nodes and edges without marshmallow; whatever it reads must come out
# exactly as the schema alone would give it, and whatever it doubts goes to the schema.
def _schema_only(doc, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(document, "_quick_list", lambda *args: None)
        return load(doc)


def _bundled_flows():
    root = pathlib.Path(__file__).resolve().parents[2] / "flows"
    found = {p.name: json.loads(p.read_text()) for p in (root / "samples").glob("*.json")}
    found.update({p.name: json.loads(p.read_text())["flow"] for p in (root / "templates").glob("*.json")})
    return {name: doc for name, doc in sorted(found.items()) if doc.get("schema") == "crossdock.flow/1"}


@pytest.mark.parametrize("name", list(_bundled_flows()))
def test_quick_path_loads_every_bundled_flow_as_the_schema_does(name, monkeypatch):
    flow = _bundled_flows()[name]
    assert load(copy.deepcopy(flow)) == _schema_only(copy.deepcopy(flow), monkeypatch)
    assert load(copy.deepcopy(flow))[1] == []


TRICKY = [None, True, False, 0, 1, -1, 1.5, math.nan, math.inf, "", "a", "a\n", "a b", "x" * 64, "x" * 65,
          "y" * 100, "y" * 101, "z" * 200, "z" * 201, [], ["a"], {}, {"x": 1, "y": 2}, {"x": 1}, {"x": True, "y": 0},
          {"x": 1, "y": 2, "z": 3}, {"a": [1, {"b": None}]}, {1: "a"}, ("a",)]
NODE_KEYS = ["id", "type", "type_version", "name", "notes", "config", "position", "disabled", "colour"]
EDGE_KEYS = ["id", "source", "source_port", "target", "target_port", "weight"]


@pytest.mark.parametrize("kind,keys", [("nodes", NODE_KEYS), ("edges", EDGE_KEYS)])
def test_quick_path_and_schema_agree_on_every_tricky_value_of_every_key(kind, keys, monkeypatch):
    base = json.loads((SAMPLES / "order-sync.json").read_text())
    for key in keys:
        for value in [DELETE, *TRICKY]:
            flow = copy.deepcopy(base)
            if value is DELETE:
                flow[kind][1].pop(key, None)
            else:
                flow[kind][1][key] = value
            assert load(copy.deepcopy(flow)) == _schema_only(copy.deepcopy(flow), monkeypatch), (key, value)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_quick_path_and_schema_agree_on_changed_nodes_and_edges(data):
    flow = json.loads((SAMPLES / "order-sync.json").read_text())
    for _ in range(data.draw(st.integers(1, 3))):
        kind, keys = data.draw(st.sampled_from([("nodes", NODE_KEYS), ("edges", EDGE_KEYS)]))
        item = data.draw(st.sampled_from(flow[kind]))
        key = data.draw(st.sampled_from(keys))
        if data.draw(st.booleans()) and key in item:
            del item[key]
        else:
            item[key] = data.draw(st.sampled_from(TRICKY) | json_values)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(document, "_quick_list", lambda *args: None)
        expected = load(copy.deepcopy(flow))
    assert load(copy.deepcopy(flow)) == expected


def test_loaded_config_shares_no_nested_value_with_the_input(flow):
    flow["nodes"][1]["config"]["deep"] = {"list": [{"k": 1}]}
    doc, _ = load(flow)
    doc["nodes"][1]["config"]["deep"]["list"][0]["k"] = 2
    assert flow["nodes"][1]["config"]["deep"]["list"][0]["k"] == 1
