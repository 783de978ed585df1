"""Product profiles (nodes/product.py, nodes/products/): every bundled profile is well-formed, a profile registered
from outside is offered by its connector without any other change, a flow param picks the product, and the
NetSuite profile maps requests, answers, pages and errors. Against the sandbox's two ERP doubles, the same
canonical request gives the same canonical answer."""
from __future__ import annotations

import jsonschema
import pytest
import requests
from marshmallow import ValidationError

from flows import references
from flows.jsonschema import json_schema
from nodes import catalog, connector_erp, connector_oms, connector_tms, connector_wms, product, products, url_template
from nodes.base import NodeError
from nodes.products import erp_netsuite
from nodes.system_profile import Operation
from support.ledger import MemoryLedger

KINDS = {"erp": connector_erp, "oms": connector_oms, "wms": connector_wms, "tms": connector_tms}


def run(config, message, ctx, env):
    prepared = connector_erp.prepare(connector_erp.Config().load(config), env)
    return list(connector_erp.run(prepared, message, ctx))


def connect(ctx, **conns):
    ctx.ledger = MemoryLedger()
    ctx.connection = lambda name: conns[name]
    return ctx


def test_every_bundled_profile_offers_operations_of_its_kinds_contract_with_paths_that_parse():
    assert {p.id for p in products.BUNDLED} == {"erp.business_central", "erp.netsuite", "oms.shopify",
                                                "wms.manhattan", "tms.generic"}
    for profile in products.BUNDLED:
        contract = dict(KINDS[profile.kind].OPERATIONS)
        assert profile.operations and {o.name for o in profile.operations} <= set(contract), profile.id
        assert product.get(profile.id) is profile and profile.id in product.of_kind(profile.kind)
        for op in profile.operations:
            url_template.parse(op.path)
            if op.read_after:
                url_template.parse(op.read_after)
            assert op.method in ("GET", "POST", "PUT", "PATCH", "DELETE"), op.name
        assert profile.error is not None, profile.id  # a failure shows the product's own reason
    # today's products carry the whole contract of their kind
    for default in ("erp.business_central", "oms.shopify", "wms.manhattan", "tms.generic"):
        kind = default.split(".")[0]
        assert [o.name for o in product.get(default).operations] == [n for n, _ in KINDS[kind].OPERATIONS]


def test_the_erp_contract_schemas_are_valid_json_schemas_of_contract_operations():
    for name, (takes, answers) in connector_erp.SCHEMAS.items():
        assert name in dict(connector_erp.OPERATIONS)
        jsonschema.Draft202012Validator.check_schema(takes)
        jsonschema.Draft202012Validator.check_schema(answers)


def test_a_profile_is_malformed_when_its_id_paging_or_auth_is_unknown():
    op = Operation("list_items", "Items", "GET", "items")
    for bad in (dict(id="NetSuite"), dict(paging="cursor"), dict(auth=("oauth1",))):
        with pytest.raises(ValueError):
            product.Profile(**{"id": "erp.x", "title": "X", "operations": (op,), **bad})
    with pytest.raises(ValueError):
        product.Profile("erp.x", "X", (op, op))
    with pytest.raises(ValueError):
        Operation("list_items", "Items", "GET", "items", path_data="header")


def test_existing_configs_without_a_product_keep_business_central():
    config = connector_erp.Config().load({"connection": "erp", "operation": "post_shipment"})
    assert config["product"] == "erp.business_central"
    assert connector_oms.Config().load({"connection": "oms", "operation": "get_order"})["product"] == "oms.shopify"


def test_a_registered_profile_is_offered_in_the_config_schema_without_touching_the_connector(ctx, env, http_target):
    throwaway = product.Profile("erp.sap_b1", "SAP Business One", (
        Operation("get_sales_order", "Read a sales order", "GET", "Orders({{$.erp_no}})",
                  response=lambda order: {"no": str(order["DocEntry"]), "status": "Released"}),))
    assert "erp.sap_b1" not in json_schema(connector_erp.Config)["properties"]["product"]["enum"]
    product.register(throwaway)
    try:
        schema = json_schema(connector_erp.Config)["properties"]["product"]
        assert schema["enum"] == ["erp.business_central", "erp.netsuite", "erp.sap_b1"]
        with pytest.raises(ValidationError) as err:
            connector_erp.Config().load({"connection": "erp", "product": "erp.sap_b1", "operation": "list_items"})
        assert err.value.messages == {"operation": ["erp.sap_b1 does not offer list_items"]}
        http_target.script = [(200, {"DocEntry": 42, "DocStatus": "bost_Open"}, {})]
        connect(ctx, erp={"base_url": http_target.url + "/b1s/v1"})
        [(_, out)] = run({"connection": "erp", "product": "erp.sap_b1", "operation": "get_sales_order"},
                         {"erp_no": 42}, ctx, env)
        assert out == {"no": "42", "status": "Released"} and http_target.requests[0]["path"] == "/b1s/v1/Orders(42)"
    finally:
        product.unregister("erp.sap_b1")
    assert "erp.sap_b1" not in json_schema(connector_erp.Config)["properties"]["product"]["enum"]
    with pytest.raises(ValidationError):
        connector_erp.Config().load({"connection": "erp", "product": "erp.sap_b1", "operation": "get_sales_order"})


def test_a_flow_param_picks_the_product_when_the_flow_is_deployed(env):
    config = connector_erp.Config().load({"connection": "erp", "product": "{{erp_product}}",
                                          "operation": "upsert_sales_order"})
    env.params = {"erp_product": "erp.netsuite"}
    assert connector_erp.prepare(config, env).operation.method == "PUT"
    env.params = {"erp_product": "erp.business_central"}
    assert connector_erp.prepare(config, env).operation.method == "POST"
    env.params = {"erp_product": "erp.oracle"}
    with pytest.raises(NodeError) as err:
        connector_erp.prepare(config, env)
    assert (err.value.code, err.value.field) == ("unknown_product", "product")
    env.params = {"erp_product": "erp.netsuite"}
    shipment = connector_erp.Config().load({"connection": "erp", "product": "{{erp_product}}",
                                            "operation": "post_shipment"})
    with pytest.raises(NodeError) as err:
        connector_erp.prepare(shipment, env)
    assert (err.value.code, err.value.field) == ("unsupported_operation", "operation")


CANONICAL_ORDER = {
    "externalDocumentNo": "5001001", "customerNo": "C-10442", "orderDate": "2026-11-26", "currencyCode": "USD",
    "shipmentMethodCode": "GROUND", "release": True,
    "shipTo": {"name": "Acme DC", "address": "4100 Distribution Pkwy", "address2": "", "city": "Columbus",
               "county": "OH", "postCode": "43217", "countryRegionCode": "US"},
    "lines": [{"lineNo": 10000, "itemNo": "HW-20620-C", "quantity": 100, "unitOfMeasureCode": "EA",
               "unitPrice": 2.6, "lineDiscountAmount": 10.0, "sourceLineNo": 1},
              {"lineNo": 20000, "itemNo": "HW-61610-C", "quantity": 60, "unitOfMeasureCode": "EA",
               "unitPrice": 7.28, "lineDiscountAmount": 0, "sourceLineNo": 2}]}


def test_netsuite_maps_a_canonical_sales_order_to_a_sales_order_record():
    record = erp_netsuite.sales_order_request(CANONICAL_ORDER)
    assert record["externalId"] == "5001001" and record["entity"] == {"externalId": "C-10442"}
    assert record["orderStatus"] == {"id": "B"} and record["shipMethod"] == {"refName": "GROUND"}
    assert record["shippingAddress"]["state"] == "OH" and record["shippingAddress"]["zip"] == "43217"
    first, second = record["item"]["items"]
    assert first == {"item": {"externalId": "HW-20620-C"}, "quantity": 100, "units": "EA", "rate": 2.6,
                     "amount": 250.0, "custcol_source_line": 1}
    assert second["amount"] == 436.8
    assert erp_netsuite.sales_order_request({**CANONICAL_ORDER, "release": False})["orderStatus"] == {"id": "A"}
    assert erp_netsuite.release_request({}) == {"orderStatus": {"id": "B"}}
    assert erp_netsuite.release_request({"overrideCreditHold": True})["custbody_credit_override"] is True


def test_netsuite_upserts_by_external_id_then_reads_the_record_into_the_canonical_answer(ctx, env, http_target):
    record = {"id": "7001", "externalId": "5001001", "tranDate": "2026-11-26",
              "entity": {"id": "101", "refName": "C-10442 Acme Hardware Supply, Inc."},
              "orderStatus": {"id": "B", "refName": "Pending Fulfillment"}, "custbody_hold_reason": None,
              "total": 686.8, "item": {"items": [
                  {"line": 1, "item": {"id": "501", "refName": "HW-20620-C"}, "quantity": 100, "units": "EA",
                   "unitConversionRate": 1, "rate": 2.6, "amount": 250.0, "quantityCommitted": 100,
                   "quantityBackOrdered": 0, "quantityFulfilled": 0}]}}
    http_target.script = [(200, {}, {}), (200, record, {})]  # the real PUT answers 204 without a body
    connect(ctx, erp={"base_url": http_target.url + "/services/rest", "auth": {"type": "bearer", "token": "t"}})
    [(_, out)] = run({"connection": "erp", "product": "erp.netsuite", "operation": "upsert_sales_order"},
                     CANONICAL_ORDER, ctx, env)
    put, read = http_target.requests
    assert (put["method"], put["path"]) == ("PUT", "/services/rest/record/v1/salesOrder/eid:5001001")
    assert put["body"]["entity"] == {"externalId": "C-10442"} and put["headers"]["Authorization"] == "Bearer t"
    assert (read["method"], read["path"]) == (
        "GET", "/services/rest/record/v1/salesOrder/eid:5001001?expandSubResources=true")
    jsonschema.validate(out, connector_erp.SALES_ORDER)
    assert (out["no"], out["customerNo"], out["status"], out["holdReason"]) == ("7001", "C-10442", "Released", None)
    assert out["lines"][0]["quantityReserved"] == 100 and out["lines"][0]["itemNo"] == "HW-20620-C"
    held = erp_netsuite.sales_order({**record, "orderStatus": {"id": "A"}, "custbody_hold_reason": "CREDIT"})
    assert (held["status"], held["holdReason"]) == ("Hold", "CREDIT")


def test_netsuite_lists_follow_has_more_and_the_next_link_across_pages(ctx, env, http_target):
    def item(n):
        return {"itemId": f"HW-{n}", "displayName": f"Item {n}", "basePrice": 1.5, "totalQuantityOnHand": n,
                "stockUnit": {"refName": "EA"}}
    following = http_target.url + "/services/rest/record/v1/inventoryItem?limit=2&offset=2"
    http_target.script = [
        (200, {"links": [{"rel": "next", "href": following}], "count": 2, "hasMore": True, "offset": 0,
               "totalResults": 3, "items": [item(1), item(2)]}, {}),
        (200, {"links": [], "count": 1, "hasMore": False, "offset": 2, "totalResults": 3, "items": [item(3)]}, {})]
    connect(ctx, erp={"base_url": http_target.url + "/services/rest"})
    [(_, out)] = run({"connection": "erp", "product": "erp.netsuite", "operation": "list_items"}, {}, ctx, env)
    assert [i["number"] for i in out] == ["HW-1", "HW-2", "HW-3"] and out[2]["inventory"] == 3
    jsonschema.validate(out, connector_erp.SCHEMAS["list_items"][1])
    assert [r["path"] for r in http_target.requests] == [
        "/services/rest/record/v1/inventoryItem?limit=100&expandSubResources=true",
        "/services/rest/record/v1/inventoryItem?limit=2&offset=2"]


def test_a_next_page_at_another_origin_is_not_followed_with_the_connections_credentials(ctx, env, http_target):
    http_target.script = [(200, {"value": [{"number": "HW-1"}], "@odata.nextLink": "http://elsewhere.example/items"},
                           {})]
    connect(ctx, erp={"base_url": http_target.url + "/erp/api", "auth": {"type": "bearer", "token": "t"}})
    with pytest.raises(NodeError) as err:
        run({"connection": "erp", "operation": "list_items"}, {}, ctx, env)
    assert (err.value.code, err.value.field) == ("egress_denied", "connection")
    assert len(http_target.requests) == 1


def test_business_central_lists_follow_the_odata_next_link(ctx, env, http_target):
    following = http_target.url + "/erp/api/items?$top=1&$skip=1"
    http_target.script = [(200, {"value": [{"number": "HW-1"}], "@odata.nextLink": following}, {}),
                          (200, {"value": [{"number": "HW-2"}]}, {})]
    connect(ctx, erp={"base_url": http_target.url + "/erp/api"})
    [(_, out)] = run({"connection": "erp", "operation": "list_items"}, {}, ctx, env)
    assert [i["number"] for i in out] == ["HW-1", "HW-2"]


def test_netsuite_errors_show_the_products_code_and_detail(ctx, env, http_target):
    http_target.script = [(400, {"type": "https://www.rfc-editor.org/rfc/rfc9110.html#status.400",
                                 "title": "Bad Request", "status": 400, "o:errorDetails": [
                                     {"detail": "Invalid Field Value 9999 for the following field: item",
                                      "o:errorCode": "INVALID_CONTENT", "o:errorPath": "item.items[0].item"}]}, {})]
    connect(ctx, erp={"base_url": http_target.url + "/services/rest"})
    with pytest.raises(NodeError) as err:
        run({"connection": "erp", "product": "erp.netsuite", "operation": "upsert_sales_order"}, CANONICAL_ORDER,
            ctx, env)
    assert err.value.code == "http_4xx" and err.value.details["product_code"] == "INVALID_CONTENT"
    assert err.value.message == ("INVALID_CONTENT: Invalid Field Value 9999 for the following field: item "
                                 "(at item.items[0].item); HTTP 400 Bad Request")  # the remote's own words first
    assert err.value.field == "item.items[0].item" and err.value.details["request"]["method"] == "PUT"
    assert erp_netsuite.error({"error": "not netsuite's"}) is None


def test_a_connection_with_an_auth_type_the_product_does_not_take_is_refused(ctx, env, http_target):
    connect(ctx, erp={"base_url": http_target.url, "auth": {"type": "api_key", "key": "k"}})
    with pytest.raises(NodeError) as err:
        run({"connection": "erp", "product": "erp.netsuite", "operation": "list_items"}, {}, ctx, env)
    assert (err.value.code, err.value.field) == ("auth_unsupported", "connection")
    assert http_target.requests == []


def test_a_canonical_body_that_does_not_fit_the_mapping_is_a_business_error_naming_the_body(ctx, env, http_target):
    connect(ctx, erp={"base_url": http_target.url})
    with pytest.raises(NodeError) as err:
        run({"connection": "erp", "product": "erp.netsuite", "operation": "upsert_sales_order"},
            {"customerNo": "C-10442"}, ctx, env)
    assert (err.value.code, err.value.field) == ("request_unmappable", "body")
    assert http_target.requests == []


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    from sandbox.serve import start_in_thread

    server = start_in_thread("127.0.0.1", 0, f"sqlite:///{tmp_path_factory.mktemp('sbx')}/sandbox.sqlite")
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.parametrize("order, outcome", [
    (CANONICAL_ORDER, ("Released", [(100, 0), (48, 12)])),
    ({**CANONICAL_ORDER, "customerNo": "C-10977",  # 520.00 on top of 650 open, limit 1,000
      "lines": [{"itemNo": "HW-20620-C", "quantity": 200, "unitOfMeasureCode": "EA", "unitPrice": 2.6}]},
     ("Hold", None)),
])
def test_both_erp_doubles_give_the_same_canonical_answer_to_the_same_request(sandbox, ctx, env, order, outcome):
    requests.post(sandbox + "/_reset", timeout=10).raise_for_status()
    connect(ctx, bc={"base_url": sandbox + "/erp/api"}, ns={"base_url": sandbox + "/netsuite/api"})
    answers = {}
    for connection, chosen in (("bc", "erp.business_central"), ("ns", "erp.netsuite")):
        ctx.node_id = f"upsert-{chosen}"  # one node per operation, as in a flow: each its own Idempotency-Key
        [(_, out)] = run({"connection": connection, "product": chosen, "operation": "upsert_sales_order"}, order,
                         ctx, env)
        jsonschema.validate(out, connector_erp.SALES_ORDER)
        [(_, found)] = run({"connection": connection, "product": chosen, "operation": "find_sales_order"},
                           {"number": order["externalDocumentNo"]}, ctx, env)
        assert [f["no"] for f in found] == [out["no"]]
        ctx.node_id = f"release-{chosen}"
        [(_, again)] = run({"connection": connection, "product": chosen, "operation": "release_sales_order"},
                           {"erp_no": out["no"]}, ctx, env)
        assert again["status"] == out["status"]
        [(_, stock)] = run({"connection": connection, "product": chosen, "operation": "get_availability"},
                           {"item_no": "HW-61610-C"}, ctx, env)
        jsonschema.validate(stock, connector_erp.AVAILABILITY)
        answers[chosen] = (out, stock)
    (bc, bc_stock), (ns, ns_stock) = answers["erp.business_central"], answers["erp.netsuite"]
    status, reserved = outcome
    assert bc["status"] == ns["status"] == status and bc["customerNo"] == ns["customerNo"]
    assert [l["itemNo"] for l in bc["lines"]] == [l["itemNo"] for l in ns["lines"]]
    assert bc["amount"] == ns["amount"]
    if reserved:
        for answer in (bc, ns):
            assert [(l["quantityReserved"], l["quantityBackordered"]) for l in answer["lines"]] == reserved
        assert bc_stock["locations"][0]["availableQuantity"] == ns_stock["locations"][0]["availableQuantity"] == 0
    else:
        assert bc["holdReason"] == ns["holdReason"] == "CREDIT"


def test_both_erp_doubles_list_the_same_items(sandbox, ctx, env):
    connect(ctx, bc={"base_url": sandbox + "/erp/api"}, ns={"base_url": sandbox + "/netsuite/api"})
    lists = [run({"connection": c, "product": p, "operation": "list_items"}, {}, ctx, env)[0][1]
             for c, p in (("bc", "erp.business_central"), ("ns", "erp.netsuite"))]
    for items in lists:
        jsonschema.validate(items, connector_erp.SCHEMAS["list_items"][1])
    assert sorted((i["number"], i["unitPrice"], i["inventory"]) for i in lists[0]) == sorted(
        (i["number"], i["unitPrice"], i["inventory"]) for i in lists[1])
    assert len(lists[0]) == 25


def test_a_product_param_the_flow_does_not_declare_is_reported_on_the_field():
    def check(flow):
        return references.check(flow, catalog.specs(), None, placeholders=lambda text: url_template.parse(text).params)

    def doc(product_value, params):
        return {"schema": "crossdock.flow/1", "id": "f", "params": params, "nodes": [
            {"id": "erp", "type": "connector.erp", "type_version": 1,
             "config": {"connection": "erp", "product": product_value, "operation": "list_items"}}], "edges": []}

    declared = {"erp_product": {"type": "string", "default": "erp.netsuite"}}
    assert check(doc("{{erp_product}}", declared)) == []
    assert check(doc("erp.netsuite", {})) == []
    [problem] = check(doc("{{erp_prodcut}}", declared))
    assert (problem.code, problem.node, problem.field) == ("unknown_param", "erp", "product")
    assert "did you mean 'erp_product'" in problem.message
