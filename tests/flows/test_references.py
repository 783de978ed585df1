"""flows.references: what a flow names outside itself, checked against a workspace described as plain data.
Specs are built here (flows is tested without nodes); the name readers are simple stand-ins for JSONata's
free variables and the URL template's placeholders."""
from __future__ import annotations

import re

from marshmallow import Schema, fields, validate

from flows.problem import ERROR, WARNING
from flows.references import Workspace, check, values_at
from flows.spec import NodeSpec, Port, Reference


class WebhookConfig(Schema):
    path = fields.String(required=True)
    method = fields.String(load_default="POST")


class ErpConfig(Schema):
    connection = fields.String(required=True)
    path = fields.String(load_default=None, allow_none=True)
    body = fields.String(load_default=None, allow_none=True)


class LookupConfig(Schema):
    table = fields.String(required=True)
    missing = fields.String(load_default="reject", validate=validate.OneOf(("reject", "keep", "default")))


class ConformConfig(Schema):
    record = fields.String(required=True)


class HttpConfig(Schema):
    url = fields.String(required=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class ChoiceConfig(Schema):
    rules = fields.List(fields.Dict(), required=True)


def _spec(type_, config, **kw) -> NodeSpec:
    category = type_.split(".")[0]
    return NodeSpec(type=type_, version=1, category=category, title=type_, description="",
                    inputs=() if category == "event" else (Port("in"),), outputs=(Port("out"),), config=config, **kw)


SPECS = {s.type: s for s in (
    _spec("event.webhook", WebhookConfig, references={"path": Reference("webhook")}),
    _spec("connector.erp", ErpConfig, expressions=("body",),
          references={"connection": Reference("connection", systems=("erp", "http")), "path": Reference("template")}),
    _spec("transform.lookup", LookupConfig,
          references={"table": Reference("lookup", lenient_when=("missing", ("keep", "default")))}),
    _spec("transform.conform", ConformConfig, references={"record": Reference("record")}),
    _spec("connector.http", HttpConfig, references={"url": Reference("template"), "headers.*": Reference("template")}),
    _spec("branch.choice", ChoiceConfig, expressions=("rules[].when",)),
)}
WS = Workspace("acme", connections={"erp": "erp", "oms": "oms", "gateway": "http"}, lookups=frozenset({"sku_xref"}),
               webhooks={("POST", "orders"): "other-flow", ("POST", "mine"): "f"})


def variables(source: str, declared: frozenset[str]) -> set[str]:
    """Stand-in for nodes.expression.variables.free_variables: every $name that is not a call."""
    return set(re.findall(r"\$([A-Za-z_]\w*)(?!\w*\()", source)) - declared


def placeholders(source: str) -> set[str]:
    return {m.strip() for m in re.findall(r"\{\{(.*?)\}\}", source) if not m.strip().startswith("$")}


def flow(*nodes, params=None) -> dict:
    doc = {"schema": "crossdock.flow/1", "id": "f", "nodes": [
        {"id": nid, "type": type_, "config": config, **extra} for nid, type_, config, *rest in nodes
        for extra in [rest[0] if rest else {}]], "edges": []}
    if params is not None:
        doc["params"] = params
    return doc


def found(doc, workspace=WS):
    return [(p.code, p.node, p.field, p.severity) for p in
            check(doc, SPECS, workspace, variables=variables, placeholders=placeholders)]


def test_a_connection_name_with_a_typo_is_an_error_naming_node_and_field_with_a_suggestion():
    doc = flow(("to_erp", "connector.erp", {"connection": "erpp"}))
    [problem] = check(doc, SPECS, WS)
    assert (problem.code, problem.node, problem.field, problem.severity) == (
        "unknown_connection", "to_erp", "connection", ERROR)
    assert problem.message == "no connection 'erpp' in this workspace; did you mean 'erp'?"
    assert found(flow(("to_erp", "connector.erp", {"connection": "erp"}))) == []


def test_a_connection_of_another_system_is_an_error_and_a_generic_one_is_accepted():
    doc = flow(("to_erp", "connector.erp", {"connection": "oms"}), ("via", "connector.erp", {"connection": "gateway"}))
    [problem] = check(doc, SPECS, WS)
    assert (problem.code, problem.node, problem.field, problem.severity) == (
        "connection_system", "to_erp", "connection", ERROR)
    assert problem.message == "connection 'oms' is for the OMS; this node calls the ERP"
    for unknown_system in (Workspace("acme", connections={"oms": None}),
                           Workspace("acme", connections=frozenset({"oms"}))):
        assert check(flow(("to_erp", "connector.erp", {"connection": "oms"})), SPECS, unknown_system) == []


def test_a_missing_lookup_table_is_an_error_unless_the_node_keeps_or_defaults_unknown_keys():
    assert found(flow(("xref", "transform.lookup", {"table": "sku_xreff"}))) == [
        ("unknown_lookup", "xref", "table", ERROR)]
    assert found(flow(("xref", "transform.lookup", {"table": "sku_xreff", "missing": "reject"}))) == [
        ("unknown_lookup", "xref", "table", ERROR)]
    assert found(flow(("subst", "transform.lookup", {"table": "substitutions", "missing": "keep"}))) == [
        ("unknown_lookup", "subst", "table", WARNING)]
    assert found(flow(("xref", "transform.lookup", {"table": "sku_xref"}))) == []


def test_an_unknown_canonical_record_is_an_error_even_without_a_workspace():
    doc = flow(("conform", "transform.conform", {"record": "ordr"}), ("ok", "transform.conform", {"record": "order"}))
    [problem] = check(doc, SPECS, None)
    assert (problem.code, problem.node, problem.field) == ("unknown_record", "conform", "record")
    assert "did you mean 'order'?" in problem.message


def test_a_webhook_path_routed_by_another_deployed_flow_is_taken_but_the_flows_own_route_is_not():
    doc = flow(("hook", "event.webhook", {"path": "/orders/"}), ("mine", "event.webhook", {"path": "mine"}),
               ("put", "event.webhook", {"path": "orders", "method": "put"}))
    [problem] = check(doc, SPECS, WS)
    assert (problem.code, problem.node, problem.field) == ("webhook_taken", "hook", "path")
    assert problem.message == "POST /hooks/acme/orders is already used by deployed flow 'other-flow'"


def test_params_used_in_expressions_and_templates_must_be_declared_and_run_is_always_bound():
    doc = flow(("to_erp", "connector.erp", {"connection": "erp", "path": "orders/{{erp_co}}/{{$.id}}",
                                             "body": "{'via': $ship_methd, 'run': $run.id, 'n': $sum(a)}"}),
               ("http", "connector.http", {"url": "{{base}}/x", "headers": {"X-Co": "{{company}}"}}),
               ("route", "branch.choice", {"rules": [{"when": "$partial = 'x'"}, {"when": "$ship_method = 'G'"}]}),
               params={"ship_method": {"type": "string"}, "base": {"type": "string"}})
    problems = check(doc, SPECS, WS, variables=variables, placeholders=placeholders)
    assert [(p.code, p.node, p.field) for p in problems] == [
        ("unknown_param", "to_erp", "path"), ("unknown_param", "to_erp", "body"),
        ("unknown_param", "http", "headers.X-Co"), ("unknown_param", "route", "rules[0].when")]
    messages = [p.message for p in problems]
    assert messages[0] == "{{erp_co}} is not a param of this flow (it has base, ship_method)"
    assert messages[1] == "$ship_methd is not a param of this flow; did you mean 'ship_method'?"


def test_kinds_the_workspace_does_not_list_are_not_checked():
    doc = flow(("to_erp", "connector.erp", {"connection": "erpp"}), ("xref", "transform.lookup", {"table": "nope"}),
               ("hook", "event.webhook", {"path": "orders"}))
    assert check(doc, SPECS, None) == []
    assert check(doc, SPECS, Workspace("acme", connections={})) != []
    assert found(doc, Workspace("acme", lookups=frozenset({"nope"}))) == []


def test_a_disabled_node_s_references_are_warnings():
    doc = flow(("to_erp", "connector.erp", {"connection": "erpp"}, {"disabled": True}))
    assert found(doc) == [("unknown_connection", "to_erp", "connection", WARNING)]


def test_malformed_documents_and_configs_give_no_problems_here_and_never_raise():
    for doc in (None, [], {"nodes": "x"}, {"nodes": [None, 3, {"id": 1}, {"id": "a", "type": "connector.erp",
                                                                      "config": "text"}]},
                flow(("a", "connector.erp", {"connection": 5}), ("b", "nope.type", {"connection": "x"}),
                     ("c", "transform.lookup", {"table": "t", "missing": 7}))):
        problems = check(doc, SPECS, WS, variables=variables, placeholders=placeholders)
        assert all(p.code in ("unknown_lookup",) for p in problems), problems
    broken_reader = lambda *args: 1 / 0  # noqa: E731 - a reader that fails is "not checked", not a crash
    doc = flow(("to_erp", "connector.erp", {"connection": "erp", "body": "$x", "path": "{{y}}"}))
    assert check(doc, SPECS, WS, variables=broken_reader, placeholders=broken_reader) == []


def test_values_at_walks_lists_and_object_values():
    config = {"rules": [{"when": "a"}, {"when": "b"}], "headers": {"A": "1", "B": "2"}, "url": "u"}
    assert values_at(config, "rules[].when") == [("rules[0].when", "a"), ("rules[1].when", "b")]
    assert values_at(config, "headers.*") == [("headers.A", "1"), ("headers.B", "2")]
    assert values_at(config, "url") == [("url", "u")] and values_at(config, "missing.*") == []
