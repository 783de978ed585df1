"""The system connectors (connector.erp/.oms/.wms/.tms) through their shared profile logic, against a local server."""
import pytest

from nodes import connector_erp, connector_oms, connector_tms, connector_wms
from nodes.base import TECHNICAL, NodeError


@pytest.fixture
def connected(ctx, http_target):
    conns = {"erp": {"base_url": http_target.url + "/erp/api/", "auth": {"type": "basic", "username": "u",
                                                                          "password": "p"}},
             "oms": {"base_url": http_target.url + "/oms/api", "auth": {"type": "api_key", "header": "X-Shop-Key",
                                                                          "key": "k1"}}}
    ctx.connection = lambda name: conns[name]
    return ctx


def run(module, config, message, ctx, env):
    prepared = module.prepare(module.Config().load(config), env)
    return list(module.run(prepared, message, ctx))


def test_an_operation_posts_to_the_connection_with_its_auth_and_an_idempotency_key(connected, env, http_target):
    http_target.script = [(201, {"no": "SO101001", "status": "Released"}, {})]
    [(port, out)] = run(connector_erp, {"connection": "erp", "operation": "upsert_sales_order",
                                        "body": "{'externalDocumentNo': number}", "into": "erp"},
                        {"number": "5001001"}, connected, env)
    assert port == "out" and out == {"number": "5001001", "erp": {"no": "SO101001", "status": "Released"}}
    [req] = http_target.requests
    assert (req["method"], req["path"], req["body"]) == ("POST", "/erp/api/sales-orders",
                                                          {"externalDocumentNo": "5001001"})
    assert req["headers"]["Authorization"] == "Basic dTpw"
    assert req["headers"]["Idempotency-Key"] == "order-release:-:node-1"


def test_path_placeholders_come_from_the_message_and_envelopes_are_unwrapped(connected, env, http_target):
    http_target.script = [(200, {"order": {"id": 5001001, "status": "on_hold"}}, {})]
    [(_, out)] = run(connector_oms, {"connection": "oms", "operation": "update_order",
                                     "body": "{'order': {'status': 'on_hold'}}"}, {"source_id": "50/01"},
                     connected, env)
    assert out == {"id": 5001001, "status": "on_hold"}
    [req] = http_target.requests
    assert (req["method"], req["path"]) == ("PATCH", "/oms/api/orders/50%2F01")
    assert req["headers"]["X-Shop-Key"] == "k1" and req["body"] == {"order": {"status": "on_hold"}}


def test_a_get_sends_no_body_and_no_idempotency_key(connected, env, http_target):
    http_target.script = [(200, {"value": [{"no": "SO1"}]}, {})]
    [(_, out)] = run(connector_erp, {"connection": "erp", "operation": "find_sales_order"}, {"number": "A 1"},
                     connected, env)
    assert out == [{"no": "SO1"}]
    [req] = http_target.requests
    assert req["path"] == "/erp/api/sales-orders?externalDocumentNo=A%201" and req["body"] is None
    assert "Idempotency-Key" not in req["headers"]


def test_each_makes_one_request_per_item_with_its_own_idempotency_key(connected, env, http_target):
    [(_, out)] = run(connector_oms, {"connection": "oms", "operation": "set_inventory", "each": "drift",
                                     "body": "{'sku': sku, 'available': atp}", "into": "fixed"},
                     {"drift": [{"sku": "a", "atp": 1}, {"sku": "b", "atp": 2}]}, connected, env)
    assert out["fixed"] == [{"ok": True}, {"ok": True}]
    assert [r["body"] for r in http_target.requests] == [{"sku": "a", "available": 1}, {"sku": "b", "available": 2}]
    assert len({r["headers"]["Idempotency-Key"] for r in http_target.requests}) == 2
    assert run(connector_oms, {"connection": "oms", "operation": "set_inventory", "each": "drift"}, {"drift": []},
               connected, env) == [("out", [])]


def test_failures_are_classified_like_connector_http(connected, env, http_target):
    http_target.script = [(503, {"error": "busy"}, {}), (422, {"error": {"code": "item_not_found"}}, {})]
    with pytest.raises(NodeError) as err:
        run(connector_erp, {"connection": "erp", "operation": "create_credit_memo"}, {}, connected, env)
    assert (err.value.code, err.value.error_class, err.value.retryable) == ("http_5xx", TECHNICAL, True)
    with pytest.raises(NodeError) as err:
        run(connector_erp, {"connection": "erp", "operation": "create_credit_memo"}, {}, connected, env)
    assert (err.value.code, err.value.retryable) == ("http_4xx", False) and "item_not_found" in err.value.details["body"]


def test_an_unknown_connection_or_a_missing_path_value_is_a_business_error_naming_the_field(connected, env):
    with pytest.raises(NodeError) as err:
        run(connector_wms, {"connection": "nowhere", "operation": "list_inventory"}, {}, connected, env)
    assert (err.value.code, err.value.field) == ("unknown_connection", "connection")
    with pytest.raises(NodeError) as err:
        run(connector_oms, {"connection": "oms", "operation": "get_order"}, {"id": 1}, connected, env)
    assert (err.value.code, err.value.field) == ("template_error", "path")


def test_every_profile_lists_operations_with_unique_names_and_an_inspector_description():
    for module in (connector_erp, connector_oms, connector_wms, connector_tms):
        names = [o.name for o in module.OPERATIONS]
        assert len(names) == len(set(names)) and module.SPEC.type.endswith(module.__name__.rsplit("_", 1)[1])
        field = module.Config().fields["operation"]
        assert all(name in field.metadata["description"] for name in names)
