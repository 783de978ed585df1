"""The system connectors (connector.erp/.oms/.wms/.tms) through their shared profile logic, against a local server."""
import pytest

from nodes import connector_erp, connector_oms, connector_tms, connector_wms, products, system_profile, url_template
from nodes.base import TECHNICAL, NodeError
from support.ledger import MemoryLedger


@pytest.fixture
def connected(ctx, http_target):
    ctx.ledger = MemoryLedger()
    conns = {"erp": {"base_url": http_target.url + "/erp/api/", "auth": {"type": "basic", "username": "u",
                                                                          "password": "p"}},
             "oms": {"base_url": http_target.url + "/oms/api", "auth": {"type": "api_key", "header": "X-Shop-Key",
                                                                          "key": "k1"}},
             "wms": {"base_url": http_target.url + "/wms/api"}, "tms": {"base_url": http_target.url + "/tms/api"}}
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


def test_every_kind_lists_its_operations_with_unique_names_and_an_inspector_description():
    for module in (connector_erp, connector_oms, connector_wms, connector_tms):
        names = [name for name, _ in module.OPERATIONS]
        assert len(names) == len(set(names)) and module.SPEC.type.endswith(module.__name__.rsplit("_", 1)[1])
        field = module.Config().fields["operation"]
        assert all(name in field.metadata["description"] for name in names)


def test_every_write_says_how_a_repeat_is_recognised_and_a_lookup_names_where_to_look():
    for profile in products.BUNDLED:
        for op in profile.operations:
            if op.method == "GET":
                continue
            assert op.repeat in system_profile.REPEATS, op.name
            assert (op.repeat == "lookup") == (op.existing is not None), op.name
            if op.existing:  # the lookup is a GET that the body can fill in
                url_template.parse(op.existing[0])
    with pytest.raises(ValueError):
        system_profile.Operation("book", "Book", "POST", "bookings")


def test_a_repeat_the_system_replays_is_noted_with_the_run_that_did_it_first(connected, env, http_target):
    order = {"no": "SO101001", "status": "Released"}
    http_target.script = [(201, order, {}), (201, order, {"Idempotent-Replayed": "true"})]
    config = {"connection": "erp", "operation": "upsert_sales_order", "body": "{'externalDocumentNo': number}",
              "into": "erp"}
    [(_, first)] = run(connector_erp, config, {"number": "5001001"}, connected, env)
    assert first == {"number": "5001001", "erp": order}
    connected.run_id = "run-2"
    [(_, second)] = run(connector_erp, config, {"number": "5001001", "already_done": "a note of an earlier step"},
                        connected, env)
    assert second == {"number": "5001001", "erp": order,
                      "already_done": "already done by run run-1 (the target replayed its first answer to this "
                                      "Idempotency-Key)"}
    keys = [r["headers"]["Idempotency-Key"] for r in http_target.requests]
    assert keys[0] == keys[1]
    assert connected.logs == [second["already_done"]]


def test_a_write_to_a_system_without_idempotency_keys_looks_the_document_up_first(connected, env, http_target):
    made = {"id": "WO100001", "orderNumber": "SO101001", "statusCode": 20}
    config = {"connection": "wms", "operation": "create_shipping_order",
              "body": "{'orderNumber': erp_no, 'lines': [{'itemId': 'HW-1', 'orderedQty': 1}]}", "into": "wms"}
    http_target.script = [(200, {"data": [], "totalCount": 0}, {}), (201, {"success": True, "data": made}, {})]
    [(_, first)] = run(connector_wms, config, {"erp_no": "SO101001"}, connected, env)
    assert first["wms"] == made and "already_done" not in first
    assert [(r["method"], r["path"]) for r in http_target.requests] == [
        ("GET", "/wms/api/shipping-orders?orderNumber=SO101001"), ("POST", "/wms/api/shipping-orders")]
    assert "Idempotency-Key" not in http_target.requests[0]["headers"]

    http_target.requests.clear()
    http_target.script = [(200, {"data": [made], "totalCount": 1}, {})]
    connected.run_id = "run-2"
    [(_, second)] = run(connector_wms, config, {"erp_no": "SO101001"}, connected, env)
    assert second["wms"] == made
    assert second["already_done"] == "already done by run run-1 (found in the target before writing)"
    assert [r["method"] for r in http_target.requests] == ["GET"]  # nothing written twice


def test_a_duplicate_the_system_refuses_is_recognised_by_reading_the_target_again(connected, env, http_target):
    made = {"id": "ER000001", "receiptNumber": "RMA-1001", "status": "Expected"}
    config = {"connection": "wms", "operation": "create_expected_receipt", "body": "{'receiptNumber': rma}"}
    http_target.script = [(200, {"data": []}, {}), (409, {"success": False, "messages": []}, {}),
                          (200, {"data": [made]}, {})]
    [(_, out)] = run(connector_wms, config, {"rma": "RMA-1001"}, connected, env)
    assert out == {**made, "already_done": "already done by an earlier attempt of this run or of the run it "
                                           "replays (the target refused a duplicate)"}
    # a conflict with nothing to show for it is a real failure
    http_target.requests.clear()
    http_target.script = [(200, {"data": []}, {}), (409, {"success": False}, {}), (200, {"data": []}, {})]
    with pytest.raises(NodeError) as err:
        run(connector_wms, config, {"rma": "RMA-1002"}, connected, env)
    assert err.value.code == "http_4xx" and err.value.details["status"] == 409


def test_a_write_that_is_idempotent_by_nature_is_sent_again_and_not_noted(connected, env, http_target):
    http_target.script = [(200, {"inventory_level": {"sku": "a", "available": 5}}, {})]
    config = {"connection": "oms", "operation": "set_inventory", "body": "{'sku': 'a', 'available': 5}"}
    for run_id in ("run-1", "run-2"):
        connected.run_id = run_id
        assert run(connector_oms, config, {}, connected, env) == [("out", {"sku": "a", "available": 5})]
    assert len(http_target.requests) == 2 and connected.ledger.claims == {}


def test_each_notes_how_many_items_were_already_done(connected, env, http_target):
    config = {"connection": "tms", "operation": "book_shipment", "each": "parcels", "body": "{'reference': ref}",
              "into": "booked"}
    booked = {"shipmentId": "TS0000001", "reference": "P1"}
    http_target.script = [(200, {"items": [booked]}, {}), (200, {"items": []}, {}), (201, {"shipmentId": "TS2"}, {})]
    [(_, out)] = run(connector_tms, config, {"parcels": [{"ref": "P1"}, {"ref": "P2"}]}, connected, env)
    assert out["booked"] == [booked, {"shipmentId": "TS2"}]
    assert out["already_done"].startswith("1 of 2 already done by")
    assert [(r["method"], r["path"]) for r in http_target.requests] == [
        ("GET", "/tms/api/shipments?reference=P1"), ("GET", "/tms/api/shipments?reference=P2"),
        ("POST", "/tms/api/shipments")]


def test_a_message_sent_as_the_body_leaves_an_earlier_steps_note_behind(connected, env, http_target):
    message = {"receiptNumber": "RMA-1", "already_done": "already done by run 7 (...)"}
    http_target.script = [(200, {"data": []}, {}), (201, {"data": {"id": "ER1"}}, {})]
    run(connector_wms, {"connection": "wms", "operation": "create_expected_receipt"}, message, connected, env)
    assert http_target.requests[-1]["body"] == {"receiptNumber": "RMA-1"}
