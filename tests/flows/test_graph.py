import copy
import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields

from flows.graph import spec_for, successors, triggers, validate
from flows.problem import ERROR, WARNING
from flows.spec import Port



def edge(eid, source, target, source_port="out", target_port="in"):
    return {"id": eid, "source": source, "source_port": source_port, "target": target, "target_port": target_port}


def node(nid, type_, config):
    return {"id": nid, "type": type_, "config": config}


def summary(problems):
    return [(p.code, p.node, p.edge, p.field, p.severity) for p in problems]


def test_sample_flow_is_clean(sample_flow, specs, check):
    assert validate(sample_flow, specs, check) == []
    assert validate(sample_flow, specs) == []


def test_minimal_flow_is_clean_with_its_error_ports_unwired(flow, specs, check):
    # map and http have an unwired `error` port: those messages go to the dead-letter queue
    assert validate(flow, specs, check) == []


def test_schema_problems_are_returned_alone(flow, specs):
    flow["nodes"][1]["type"] = 5
    flow["edges"].append(edge("e3", "map", "ghost"))
    assert summary(validate(flow, specs)) == [("invalid_document", "map", None, "nodes[1].type", ERROR)]


def test_unknown_node_type(flow, specs):
    flow["nodes"][1]["type"] = "transform.magic"
    problems = validate(flow, specs)
    assert summary(problems) == [("unknown_node_type", "map", None, None, ERROR)]
    assert "transform.magic" in problems[0].message


def test_unsupported_type_version(flow, specs):
    flow["nodes"][1]["type_version"] = 2
    problems = validate(flow, specs)
    assert summary(problems) == [("unsupported_type_version", "map", None, None, ERROR)]
    assert "version 2" in problems[0].message


def test_older_type_version_registered_beside_the_current_one(flow, specs):
    current = dataclasses.replace(specs["transform.map"], version=2)
    specs["transform.map@1"], specs["transform.map"] = specs["transform.map"], current
    assert validate(flow, specs) == []
    assert spec_for(specs, "transform.map", 1) is specs["transform.map@1"]
    assert spec_for(specs, "transform.map", 2) is current
    assert spec_for(specs, "transform.map", 3) is None


@pytest.mark.parametrize("end", ["source", "target"])
def test_dangling_edge(flow, specs, end):
    other = "target" if end == "source" else "source"
    existing = flow["edges"][1][other]
    flow["edges"][1][end] = "ghost"
    problems = validate(flow, specs)
    # the problem names the node the loose edge still hangs on, so the canvas can mark it
    assert ("dangling_edge", existing, "e2", end, ERROR) in summary(problems)
    assert "ghost" in problems[0].message


def test_duplicate_edge(flow, specs):
    flow["edges"].append(edge("again", "map", "out"))
    assert summary(validate(flow, specs)) == [("duplicate_edge", None, "again", None, ERROR)]


def test_unknown_source_port(flow, specs):
    flow["edges"][1]["source_port"] = "done"
    problems = validate(flow, specs)
    assert summary(problems) == [("unknown_port", None, "e2", "source_port", ERROR),
                                 ("unwired_route", "map", None, "out", ERROR)]  # so its `out` leads nowhere
    assert "out, error" in problems[0].message


def test_unknown_target_port(flow, specs):
    flow["edges"][1]["target_port"] = "input"
    assert summary(validate(flow, specs)) == [("unknown_port", None, "e2", "target_port", ERROR)]


def test_rule_ports_of_a_choice_are_output_ports(sample_flow, specs):
    sample_flow["nodes"][2]["config"]["rules"][0]["port"] = "big"
    problems = summary(validate(sample_flow, specs))
    # the edge from the old port is now wrong, and the new port goes nowhere
    assert problems == [("unknown_port", None, "large", "source_port", ERROR),
                        ("unwired_route", "by_total", None, "rules[0].port", ERROR)]


def test_edge_into_a_trigger(flow, specs):
    flow["edges"].append(edge("back", "map", "in"))
    problems = summary(validate(flow, specs))
    assert ("edge_into_trigger", None, "back", "target", ERROR) in problems
    assert not [p for p in problems if p[0] == "unknown_port"]


def test_no_trigger(flow, specs):
    flow["nodes"].pop(0)
    flow["edges"].pop(0)
    assert summary(validate(flow, specs)) == [("no_trigger", None, None, None, ERROR)]


def test_no_trigger_when_every_trigger_is_disabled(flow, specs):
    flow["nodes"][0]["disabled"] = True
    problems = validate(flow, specs)
    assert summary(problems) == [("no_trigger", None, None, None, ERROR)]
    assert "disabled" in problems[0].message


def test_empty_flow_has_no_trigger(specs):
    problems = validate({"schema": "crossdock.flow/1", "id": "empty"}, specs)
    assert summary(problems) == [("no_trigger", None, None, None, ERROR)]


def test_unreachable_node(flow, specs):
    flow["nodes"].append(node("orphan", "transform.map", {"expression": "$"}))
    flow["nodes"].append(node("after", "connector.http", {"url": "u"}))
    flow["edges"].append(edge("e3", "orphan", "after"))
    assert summary(validate(flow, specs)) == [("unreachable_node", "orphan", None, None, ERROR),
                                              ("unreachable_node", "after", None, None, ERROR)]


def test_node_reached_only_through_a_disabled_node_is_a_warning(flow, specs):
    flow["nodes"][1]["disabled"] = True
    problems = validate(flow, specs)
    assert summary(problems) == [("unreachable_node", "out", None, None, WARNING),
                                 ("unwired_route", "in", None, "out", WARNING)]
    assert problems[1].message == "Port 'out' of 'in' leads only to disabled 'map': its messages stop there."


def test_a_second_trigger_reaches_its_own_nodes(flow, specs):
    flow["nodes"].append(node("by_hand", "event.manual", {"sample": {"order": 1}}))
    flow["nodes"].append(node("log", "connector.http", {"url": "u"}))
    flow["edges"].append(edge("e3", "by_hand", "log"))
    assert validate(flow, specs) == []
    assert triggers(flow, specs) == ["in", "by_hand"]


def test_cycle_names_its_nodes(flow, specs):
    flow["nodes"].append(node("again", "transform.map", {"expression": "$"}))
    flow["edges"] += [edge("e3", "out", "again"), edge("e4", "again", "map")]
    problems = validate(flow, specs)
    assert summary(problems) == [("cycle", "map", None, None, ERROR)]
    assert "map -> out -> again -> map" in problems[0].message


def test_self_loop_is_a_cycle(flow, specs):
    flow["edges"].append(edge("e3", "map", "map", "error"))
    problems = validate(flow, specs)
    assert summary(problems) == [("cycle", "map", None, None, ERROR)]
    assert "map -> map" in problems[0].message


def test_two_separate_cycles_are_two_problems(flow, specs):
    flow["nodes"] += [node("a", "transform.map", {"expression": "$"}), node("b", "transform.map", {"expression": "$"})]
    flow["edges"] += [edge("e3", "out", "a"), edge("e4", "a", "b"), edge("e5", "b", "a"), edge("e6", "map", "map", "error")]
    assert [(p.code, p.node) for p in validate(flow, specs)] == [("cycle", "map"), ("cycle", "a")]


def test_choice_with_unwired_otherwise(sample_flow, specs):
    sample_flow["edges"] = [e for e in sample_flow["edges"] if e["id"] != "otherwise"]
    sample_flow["nodes"] = [n for n in sample_flow["nodes"] if n["id"] != "post_standard"]
    problems = validate(sample_flow, specs)
    assert summary(problems) == [("unwired_route", "by_total", None, "otherwise", ERROR)]
    assert problems[0].message == ("Port 'otherwise' of 'Large order?' (by_total) leads nowhere: connect it to "
                                   "the next step, or end it with a Discard node (control.discard) that says why.")


def test_choice_with_an_unwired_rule_port(sample_flow, specs):
    sample_flow["nodes"][2]["config"]["rules"].append({"port": "export", "when": "SHIP_TO.COUNTRY != 'US'"})
    assert summary(validate(sample_flow, specs)) == [("unwired_route", "by_total", None, "rules[1].port", ERROR)]


def test_a_choice_that_drops_unmatched_messages_ends_them_by_its_own_rule(sample_flow, specs):
    sample_flow["edges"] = [e for e in sample_flow["edges"] if e["id"] != "otherwise"]
    sample_flow["nodes"] = [n for n in sample_flow["nodes"] if n["id"] != "post_standard"]
    sample_flow["nodes"][2]["config"]["drop_unmatched"] = True
    assert validate(sample_flow, specs) == []
    sample_flow["nodes"][2]["config"]["drop_unmatched"] = 1  # only the real switch counts
    assert summary(validate(sample_flow, specs))[-1] == ("unwired_route", "by_total", None, "otherwise", ERROR)


def test_wired_error_port_is_fine(flow, specs):
    flow["nodes"].append(node("alert", "connector.http", {"url": "http://alerts/x"}))
    flow["edges"].append(edge("e3", "map", "alert", "error"))
    assert validate(flow, specs) == []


# --- every port that can carry a message is wired or explicitly ended ---------------------------------------

class LookupConfig(Schema):
    table = fields.String(required=True)
    missing = fields.String()


def lookup_specs(specs):
    """specs plus a lookup like nodes/transform_lookup.py: not_found is used unless unknown keys are kept."""
    lookup = dataclasses.replace(specs["transform.map"], type="transform.lookup", expressions=(), config=LookupConfig,
                                 outputs=(Port("out"), Port("not_found", unused_when=("missing", ("keep", "default")))))
    return {**specs, "transform.lookup": lookup}


def sku_flow(flow):
    """webhook -> SKU cross-reference (out -> map -> http); its not_found port is not wired."""
    flow["nodes"].insert(1, {**node("xref", "transform.lookup", {"table": "sku"}), "name": "SKU cross-reference"})
    flow["edges"] = [edge("e1", "in", "xref"), edge("e2", "xref", "map"), edge("e3", "map", "out")]
    return flow


def test_an_unwired_port_is_an_error_naming_node_and_port(flow, specs):
    problems = validate(sku_flow(flow), lookup_specs(specs))
    assert summary(problems) == [("unwired_route", "xref", None, "not_found", ERROR)]
    assert problems[0].message.startswith("Port 'not_found' of 'SKU cross-reference' (xref) leads nowhere")


def test_a_discard_node_ends_a_port_explicitly(flow, specs):
    flow = sku_flow(flow)
    flow["nodes"].append(node("skip", "control.discard", {"reason": "unknown SKUs are fixed in the ERP"}))
    flow["edges"].append(edge("e4", "xref", "skip", "not_found"))
    assert validate(flow, lookup_specs(specs)) == []


def test_a_port_the_config_switches_off_needs_no_edge(flow, specs):
    flow = sku_flow(flow)
    for missing in ("keep", "default"):
        flow["nodes"][1]["config"]["missing"] = missing
        assert validate(flow, lookup_specs(specs)) == []
    flow["nodes"][1]["config"]["missing"] = "reject"
    assert [p.field for p in validate(flow, lookup_specs(specs))] == ["not_found"]


def test_the_last_map_of_a_flow_must_say_where_its_message_ends(flow, specs):
    flow["nodes"][2] = node("out", "transform.map", {"expression": "$"})
    assert summary(validate(flow, specs)) == [("unwired_route", "out", None, "out", ERROR)]


def test_a_connectors_answer_and_error_may_stay_unwired_and_a_filter_drops_by_its_rule(flow, specs):
    flow["nodes"].insert(1, node("open", "branch.filter", {"when": "status = 'open'"}))
    flow["edges"] = [edge("e1", "in", "open"), edge("e2", "open", "map"), edge("e3", "map", "out")]
    assert validate(flow, specs) == []  # http's `out` is optional, every `error` goes to dead letters


def test_an_unwired_port_of_a_disabled_node_only_warns(flow, specs):
    flow["nodes"].append({**node("later", "transform.map", {"expression": "$"}), "disabled": True})
    flow["edges"].append(edge("e3", "map", "later"))
    assert summary(validate(flow, specs)) == [("unwired_route", "later", None, "out", WARNING)]


def test_missing_required_config(flow, specs):
    flow["nodes"][1]["config"] = {}
    problems = validate(flow, specs)
    assert summary(problems) == [("config_missing", "map", None, "expression", ERROR)]


@pytest.mark.parametrize("index,config,field", [
    (2, {"url": "u", "timeout_s": "slow"}, "timeout_s"),
    (2, {"url": "u", "method": "FETCH"}, "method"),
    (2, {"url": "u", "headers": {"X-Id": 5}}, "headers.X-Id"),
    (2, {"url": "u", "auth": {"type": "api_key", "value": 5}}, "auth.value"),
    (2, {"url": "u", "retry": {"max_attempts": "5"}}, "retry.max_attempts"),
    (2, {"url": "u", "colour": "red"}, "colour"),
    (0, {"path": "orders", "respond": "later"}, "respond"),
])
def test_wrong_config_names_the_config_path(flow, specs, index, config, field):
    flow["nodes"][index]["config"] = config
    problems = validate(flow, specs)
    assert summary(problems) == [("config_invalid", flow["nodes"][index]["id"], None, field, ERROR)]


def test_nested_config_problem_in_a_list(sample_flow, specs):
    del sample_flow["nodes"][2]["config"]["rules"][0]["when"]
    assert summary(validate(sample_flow, specs)) == [("config_missing", "by_total", None, "rules[0].when", ERROR)]


def test_config_problem_of_a_disabled_node_is_a_warning(flow, specs):
    flow["nodes"].append({**node("draft", "transform.map", {}), "disabled": True})
    flow["edges"].append(edge("e3", "map", "draft"))
    assert summary(validate(flow, specs)) == [("config_missing", "draft", None, "expression", WARNING),
                                              ("unwired_route", "draft", None, "out", WARNING)]


def test_a_config_schema_that_crashes_is_one_problem_on_its_node(flow, specs):
    class Broken(fields.Field):
        def _deserialize(self, value, attr, data, **kwargs):
            raise RuntimeError("bug in a node type")

    class BrokenConfig(Schema):
        url = Broken()

    specs["connector.http"] = dataclasses.replace(specs["connector.http"], config=BrokenConfig)
    assert summary(validate(flow, specs)) == [("config_invalid", "out", None, None, ERROR)]


def test_expression_problem_carries_node_field_and_position(flow, specs, check):
    flow["nodes"][1]["config"]["expression"] = "{\n  'a': ((b\n}"
    problems = validate(flow, specs, check)
    assert summary(problems) == [("expression_invalid", "map", None, "expression", ERROR)]
    p = problems[0]
    assert (p.position, p.line, p.column) == (9, 2, 8)
    assert p.message == "S0202: Expected ')'"


def test_expression_problems_in_rule_lists_and_optional_fields(sample_flow, specs, check):
    sample_flow["nodes"][2]["config"]["rules"].insert(0, {"port": "rush", "when": "((priority"})
    sample_flow["nodes"].append(node("rush_sink", "connector.http", {"url": "u", "body": "$merge(("}))
    sample_flow["edges"].append(edge("rush", "by_total", "rush_sink", "rush"))
    problems = validate(sample_flow, specs, check)
    assert [(p.node, p.field, p.column) for p in problems] == [("by_total", "rules[0].when", 1),
                                                                ("rush_sink", "body", 7)]


def test_empty_optional_expression_is_skipped(flow, specs, check):
    seen = []
    flow["nodes"][2]["config"]["body"] = ""
    validate(flow, specs, lambda src: seen.append(src))
    assert seen == ["order"]
    flow["nodes"][2]["config"]["body"] = None
    assert validate(flow, specs, check) == []


def test_without_a_checker_expressions_are_not_compiled(flow, specs):
    flow["nodes"][1]["config"]["expression"] = "(("
    assert validate(flow, specs) == []


def test_a_checker_that_raises_becomes_a_problem(flow, specs):
    def explode(source):
        raise ValueError("checker bug")

    assert summary(validate(flow, specs, explode)) == [("expression_invalid", "map", None, "expression", ERROR)]


def test_successors_in_edge_order(sample_flow):
    assert successors(sample_flow) == {
        ("intake", "out"): [("to_erp", "in")],
        ("to_erp", "out"): [("by_total", "in")],
        ("by_total", "large"): [("post_priority", "in")],
        ("by_total", "otherwise"): [("post_standard", "in")],
    }


def test_successors_fan_out_skip_disabled_and_deliver_duplicates_once(flow):
    flow["nodes"].append({**node("off", "connector.http", {"url": "u"}), "disabled": True})
    flow["nodes"].append(node("copy", "connector.http", {"url": "u"}))
    flow["edges"] += [edge("e3", "map", "off"), edge("e4", "map", "copy"), edge("e5", "map", "copy")]
    assert successors(flow)[("map", "out")] == [("out", "in"), ("copy", "in")]


def test_triggers(sample_flow, specs):
    assert triggers(sample_flow, specs) == ["intake"]
    sample_flow["nodes"][0]["disabled"] = True
    assert triggers(sample_flow, specs) == []


HOSTILE = [
    None, 0, "", [], {}, {"schema": "crossdock.flow/1"}, {"schema": "crossdock.flow/1", "id": "x", "nodes": 5},
    {"schema": "crossdock.flow/1", "id": "x", "nodes": [None, 1, "a", [], {}]},
    {"schema": "crossdock.flow/1", "id": "x", "edges": [{"id": "e", "source": ["a"], "target": {"b": 1}}]},
    {"schema": "crossdock.flow/1", "id": "x", "nodes": [node("c", "branch.choice", {"rules": 5})]},
    {"schema": "crossdock.flow/1", "id": "x", "nodes": [node("c", "branch.choice", {"rules": ["x", {"port": 1}]})]},
    {"schema": "crossdock.flow/1", "id": "x", "nodes": [node("c", "branch.choice", {"rules": {"port": "a"}})]},
    {"schema": "crossdock.flow/1", "id": "x", "nodes": [node("m", "transform.map", {"expression": ["(("]})]},
    {"schema": "crossdock.flow/1", "id": "x", "nodes": [node("m", "transform.map", None)]},
    {"schema": ["crossdock.flow/1"], "id": {"x": 1}},
    {"schema": "crossdock.flow/1", "id": "x", "params": {"p": {"type": "object", "default": float("inf")}}},
    {"schema": "crossdock.flow/1", "id": "x", "nodes": [node("a" * 10_000, "x" * 10_000, {})]},
    {"schema": "crossdock.flow/1", "id": "x", "nodes": [{"id": "n", "type": "event.webhook", "type_version": 10**100}]},
]


@pytest.mark.parametrize("doc", HOSTILE)
def test_validate_never_raises_on_hostile_documents(doc, specs, check):
    problems = validate(copy.deepcopy(doc), specs, check)
    assert problems
    assert "validator_error" not in [p.code for p in problems]


NODE_TYPES = ["event.webhook", "event.manual", "transform.map", "branch.choice", "connector.http",
              "control.respond", "no.such"]
PORTS = ["in", "out", "error", "otherwise", "large", "x"]
CONFIGS = [{}, {"expression": "(("}, {"rules": [{"port": "large", "when": "a"}]}, {"url": "u", "body": "(("},
           {"path": "p"}, {"rules": 5}, {"status": "ok"}]


# specs and check are only read, so one fixture instance can serve every generated example
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_validate_never_raises_on_random_graphs(data, specs, check):
    ids = [f"n{i}" for i in range(data.draw(st.integers(0, 6)))]
    nodes = [{"id": nid, "type": data.draw(st.sampled_from(NODE_TYPES)), "config": data.draw(st.sampled_from(CONFIGS)),
              "disabled": data.draw(st.booleans())} for nid in ids]
    endpoints = st.sampled_from(ids + ["ghost"])
    edges = [edge(f"e{i}", data.draw(endpoints), data.draw(endpoints), data.draw(st.sampled_from(PORTS)),
                  data.draw(st.sampled_from(PORTS))) for i in range(data.draw(st.integers(0, 10)))]
    flow = {"schema": "crossdock.flow/1", "id": "random", "nodes": nodes, "edges": edges}
    problems = validate(flow, specs, check)
    assert "validator_error" not in [p.code for p in problems]
    assert {p.node for p in problems} <= set(ids) | {None}
    assert {p.edge for p in problems} <= {e["id"] for e in edges} | {None}
    successors(flow)
    triggers(flow, specs)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_validate_never_raises_on_any_json(value, specs, check):
    problems = validate(value, specs, check)
    assert problems and "validator_error" not in [p.code for p in problems]


def test_problems_serialise_to_json(sample_flow, specs, check):
    sample_flow["nodes"][1]["config"]["expression"] = "(("
    sample_flow["edges"][0]["target_port"] = "x"
    assert json.loads(json.dumps([p.to_dict() for p in validate(sample_flow, specs, check)]))


# Big flows: checked configs are remembered by content, and reachability is one walk for all triggers.
# What validate answers must not depend on what it remembers.
from flows import graph as graph_module  # noqa: E402


def test_a_remembered_check_gives_the_same_problems_as_a_fresh_one(sample_flow, flow, specs, check):
    flow["nodes"][1]["config"]["expression"] = "order(("
    flow["nodes"][2]["config"] = {"url": 5}
    for doc in (sample_flow, flow):
        graph_module._config_problems.cache_clear()
        fresh = validate(doc, specs, check)
        assert validate(doc, specs, check) == fresh
        assert validate(copy.deepcopy(doc), specs, check) == fresh


def test_an_unchanged_flow_is_not_checked_again_and_an_edit_rechecks_only_its_node(flow, specs):
    seen = []

    def recording(source):
        seen.append(source)
        return None

    flow["nodes"].append(node("map2", "transform.map", {"expression": "order.lines"}))
    flow["edges"].append(edge("e3", "map", "map2"))
    validate(flow, specs, recording)
    assert sorted(seen) == ["order", "order.lines"]
    seen.clear()
    validate(flow, specs, recording)
    assert seen == []
    flow["nodes"][1]["config"]["expression"] = "order.number"
    validate(flow, specs, recording)
    assert seen == ["order.number"]


def test_configs_equal_in_python_but_not_in_json_are_checked_apart(flow, specs):
    # 1 == 1.0 == True in Python; a schema may accept one and refuse another
    results = []
    for value in (1, 1.0, True):
        flow["nodes"][2]["config"] = {"url": "http://x/y", "timeout_s": value}
        results.append([p for p in summary(validate(flow, specs)) if p[0].startswith("config")])
    assert results[0] == results[1] == []
    assert results[2] == [("config_invalid", "out", None, "timeout_s", ERROR)]


def test_a_config_that_is_not_json_is_still_checked(flow, specs, check):
    flow["nodes"][1]["config"] = {"expression": "order((", "extra": {1, 2}}
    problems = summary(validate(flow, specs, check))
    assert ("expression_invalid", "map", None, "expression", ERROR) in problems


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
    st.sets(st.integers(0, n - 1), min_size=1, max_size=3), st.sets(st.integers(0, n - 1), max_size=4))))
def test_one_walk_reaches_what_a_walk_per_trigger_reaches(case):
    import networkx as nx
    n, wires, starts, avoided = case
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(wires)
    starts = sorted(starts)
    expected = set(starts)
    for s in starts:
        expected |= nx.descendants(g, s)
    assert graph_module._reachable(g.succ, starts) == expected
    live = g.subgraph(set(g) - avoided)
    expected_live = set(s for s in starts if s not in avoided)
    for s in expected_live.copy():
        expected_live |= nx.descendants(live, s)
    assert graph_module._reachable(g.succ, [s for s in starts if s not in avoided], avoided) == expected_live
    assert graph_module._acyclic({n: dict.fromkeys(g.successors(n)) for n in g}) == nx.is_directed_acyclic_graph(g)
