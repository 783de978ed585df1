"""Egress policy of the connectors (nodes/http_client.py): loopback, private, link-local, unspecified and the like
are refused with `egress_denied` after name resolution unless the workspace allows them; the message never picks
the host; redirects, every resolved address and pooled connections are checked too."""
from __future__ import annotations

import ipaddress
import socket
from types import SimpleNamespace

import pytest
from marshmallow import ValidationError

from flows import graph
from nodes import catalog, connector_erp, connector_http, expression, http_client, url_template
from nodes.base import NodeError
from nodes.http_client import Egress

REDIS = "http://127.0.0.1:6379/"


def env(*allow: str) -> SimpleNamespace:
    policy = Egress.parse(allow)
    return SimpleNamespace(params={}, egress=lambda: policy)


def prepared(url: str, *allow: str, **config):
    return connector_http.prepare(catalog.load_config(connector_http.SPEC, {"url": url, "method": "GET", **config}),
                                  env(*allow))


def outcome(p, ctx, message=None):
    try:
        return list(connector_http.run(p, message or {}, ctx))
    except NodeError as err:
        return err


def origin(url: str) -> str:
    return url.split("://", 1)[1].rstrip("/")


def test_redis_on_loopback_is_denied_unless_the_workspace_allows_it(ctx):
    err = outcome(prepared(REDIS), ctx)
    assert isinstance(err, NodeError) and err.code == "egress_denied"
    assert err.error_class == "business" and not err.retryable and err.field == "url"
    assert "127.0.0.1:6379 is a loopback address" in err.message and "settings.egress.allow" in err.message
    allowed = outcome(prepared(REDIS, "127.0.0.1:6379"), ctx)  # now it gets through: Redis speaks no HTTP
    assert isinstance(allowed, NodeError) and allowed.code == "connection_error"


@pytest.mark.parametrize("url", [
    "http://[::1]:{port}/",  # IPv6 loopback
    "http://0.0.0.0:{port}/",  # unspecified: reaches this machine
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "http://localhost:{port}/",  # a name that resolves to 127.0.0.1
    "http://[::ffff:127.0.0.1]:{port}/",  # IPv4-mapped loopback
    "http://2130706433:{port}/",  # 127.0.0.1 spelled as one number
    "http://127.1:{port}/",
    "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/",  # private
    "http://[fd00::1]/", "http://[fe80::1]/",  # unique local, link-local
    "http://224.0.0.1/",  # multicast
    "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
])
def test_non_public_destinations_are_denied(ctx, http_target, url):
    err = outcome(prepared(url.format(port=http_target.server.server_port)), ctx)
    assert isinstance(err, NodeError) and err.code == "egress_denied", err
    assert http_target.requests == []


def test_a_host_port_entry_or_a_range_allows_the_target(ctx, http_target):
    port = http_target.server.server_port
    assert outcome(prepared(http_target.url + "/a", origin(http_target.url)), ctx) == [("out", {"ok": True})]
    assert outcome(prepared(http_target.url + "/b", "127.0.0.0/8"), ctx) == [("out", {"ok": True})]
    # a name is allowed as the name: its address is not allowed by it, nor another port
    assert outcome(prepared(f"http://localhost:{port}/c", f"localhost:{port}"), ctx) == [("out", {"ok": True})]
    assert outcome(prepared(http_target.url + "/d", f"localhost:{port}"), ctx).code == "egress_denied"
    assert outcome(prepared(http_target.url + "/e", f"127.0.0.1:{port + 1}"), ctx).code == "egress_denied"
    assert [r["path"] for r in http_target.requests] == ["/a", "/b", "/c"]


def test_a_host_from_the_message_is_a_problem_at_save():
    with pytest.raises(ValidationError, match="path and query only"):
        catalog.load_config(connector_http.SPEC, {"url": "http://{{$.target}}/orders"})
    doc = {"schema": "crossdock.flow/1", "id": "f", "name": "f", "edges": [], "nodes": [
        {"id": "call", "type": "connector.http", "config": {"url": "{{$.target}}"}}]}
    problems = graph.validate(doc, catalog.specs(), expression.check)
    assert any(p.node == "call" and p.field == "url" and "path and query only" in p.message for p in problems)
    for fine in ("http://erp.example/orders/{{$.n}}?q={{$.q}}", "{{erp_url}}/orders/{{$.n}}"):
        catalog.load_config(connector_http.SPEC, {"url": fine})


def test_a_host_from_the_message_is_denied_at_run_time_even_when_that_host_is_allowed(ctx, http_target):
    p = prepared(http_target.url, origin(http_target.url))
    p.url = url_template.parse("http://{{$.target}}/orders")  # a document that skipped validation
    err = outcome(p, ctx, {"target": origin(http_target.url)})
    assert err.code == "egress_denied" and http_target.requests == []
    p.url = url_template.parse("{{base}}{{$.port}}/orders")
    ctx.params = {**ctx.params, "base": "http://127.0.0.1:"}
    assert outcome(p, ctx, {"port": http_target.server.server_port}).code == "egress_denied"


def test_a_message_value_in_the_path_cannot_move_the_request(ctx, http_target):
    p = prepared(http_target.url + "/orders/{{$.id}}", origin(http_target.url))
    assert outcome(p, ctx, {"id": "x@127.0.0.1:6379/#"}) == [("out", {"ok": True})]
    assert http_target.requests[0]["path"] == "/orders/x%40127.0.0.1%3A6379%2F%23"


def test_a_redirect_to_a_denied_address_is_denied(ctx, http_target):
    http_target.script = [(302, {}, {"Location": REDIS})]
    err = outcome(prepared(http_target.url + "/moved", origin(http_target.url)), ctx)
    assert err.code == "egress_denied" and "6379" in err.message
    assert [r["path"] for r in http_target.requests] == ["/moved"]


@pytest.fixture
def resolver(monkeypatch):
    """Names under .test resolved by the test: name -> a list of answers, one per lookup (the last repeats)."""
    answers: dict[str, list[list[str]]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if isinstance(host, str) and host.endswith(".test"):
            lookups.append(host)
            found = answers[host][min(lookups.count(host), len(answers[host])) - 1]
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                     (a, port, 0, 0) if ":" in a else (a, port)) for a in found]
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return SimpleNamespace(answers=answers, lookups=lookups)


def test_every_resolved_address_is_checked(ctx, resolver):
    resolver.answers["mixed.test"] = [["93.184.216.34", "127.0.0.1"]]
    err = outcome(prepared("http://mixed.test:6379/"), ctx)
    assert err.code == "egress_denied" and "mixed.test:6379 (127.0.0.1:6379)" in err.message


def test_the_connection_goes_to_the_address_that_was_checked(ctx, http_target, resolver):
    """DNS rebinding: a second lookup would answer with Redis' address; the connection never asks again."""
    port = http_target.server.server_port
    resolver.answers["rebind.test"] = [["127.0.0.1"], ["10.9.9.9"]]
    p = prepared(f"http://rebind.test:{port}/r", f"127.0.0.1:{port}")
    assert outcome(p, ctx) == [("out", {"ok": True})]
    assert resolver.lookups == ["rebind.test"] and http_target.requests[0]["path"] == "/r"


def test_a_pooled_connection_is_not_reused_under_another_workspaces_policy(ctx, http_target):
    allowed = prepared(http_target.url + "/keep-alive", origin(http_target.url))
    assert outcome(allowed, ctx) == [("out", {"ok": True})]
    assert outcome(prepared(http_target.url + "/other"), ctx).code == "egress_denied"
    assert [r["path"] for r in http_target.requests] == ["/keep-alive"]


def test_system_connectors_obey_the_policy_too(ctx, http_target):
    class Connected(type(ctx)):
        def connection(self, name):
            return {"name": name, "system": "erp", "base_url": "http://127.0.0.1:6379/api", "auth": {"type": "none"}}

    c = Connected(params=ctx.params)
    config = connector_erp.Config().load({"connection": "erp", "operation": "get_sales_order"})
    with pytest.raises(NodeError) as err:
        list(connector_erp.run(connector_erp.prepare(config, env()), {"erp_no": "SO1"}, c))
    assert err.value.code == "egress_denied"


def test_without_a_policy_a_connector_reaches_public_addresses_only(ctx):
    p = connector_http.prepare(catalog.load_config(connector_http.SPEC, {"url": REDIS}), SimpleNamespace(params={}))
    assert outcome(p, ctx).code == "egress_denied"


@pytest.mark.parametrize("entry", ["example.com", "example.com:0", "example.com:http", "10.0.0.0/33", "", 5,
                                   "a/b:80", "host:99999"])
def test_allow_entries_are_host_port_or_address_ranges(entry):
    with pytest.raises(ValueError):
        Egress.parse([entry])


def test_allow_entries_are_read_in_one_spelling():
    policy = Egress.parse(["[0:0::1]:8080", "Sandbox.Local.:5001", "10.0.0.0/8", "192.168.1.7"])
    assert policy.hosts == {("::1", 8080), ("sandbox.local", 5001)}
    assert policy.denies("::1", 8080, ["::1"]) is None and policy.denies("SANDBOX.local", 5001, ["127.0.0.1"]) is None
    assert policy.denies("db", 5432, ["10.20.30.40"]) is None and policy.denies("x", 1, ["192.168.1.7"]) is None
    assert "private" in policy.denies("x", 1, ["192.168.1.8"])
    assert http_client.non_public(ipaddress.ip_address("8.8.8.8")) is None
