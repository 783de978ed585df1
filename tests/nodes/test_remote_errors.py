"""Readable connector errors: each error shape we know gives the remote system's code, message and field; the request
sent keeps its headers with secrets masked; a refused answer through connector_http.send says it in the headline."""
from __future__ import annotations

import pytest
import requests

from nodes import connector_http, remote_errors
from nodes.base import NodeError


@pytest.mark.parametrize("body, expected", [
    ({"error": {"code": "item_not_found", "message": "Item IPOD2008GREEN does not exist.",
                "target": "lines[0].itemNo"}},
     ("item_not_found", "Item IPOD2008GREEN does not exist.", "lines[0].itemNo")),
    ({"title": "Bad Request", "o:errorDetails": [{"detail": "Invalid Field Value 9999",
                                                 "o:errorCode": "INVALID_CONTENT",
                                                 "o:errorPath": "item.items[0].item"}]},
     ("INVALID_CONTENT", "Invalid Field Value 9999", "item.items[0].item")),
    ({"type": "urn:sandbox:tms:invalid_field", "title": "Invalid field", "detail": "weight must be positive",
      "invalidParams": [{"name": "parcels[0].weightKg", "reason": "..."}]},
     ("invalid_field", "weight must be positive", "parcels[0].weightKg")),
    ({"errors": {"line_items[0].sku": ["does not match a product"]}},
     ("invalid", "does not match a product", "line_items[0].sku")),
    ({"messages": [{"messageKey": "ITEM_UNKNOWN", "description": "no such item"}]},
     ("ITEM_UNKNOWN", "no such item", None)),
])
def test_the_remote_systems_own_code_message_and_field_are_read(body, expected):
    found = remote_errors.remote(body)
    assert (found["code"], found["message"], found["field"]) == expected


@pytest.mark.parametrize("body", [None, [], "text", {"ok": False}, {"error": "plain"}, {"errors": {}}])
def test_answers_of_no_known_shape_give_nothing(body):
    assert remote_errors.remote(body) is None


def test_a_refusal_leads_with_the_remote_code_and_keeps_the_request_with_secrets_masked(http_target):
    http_target.script = [(422, {"error": {"code": "item_not_found", "message": "Item IPOD2008GREEN does not exist.",
                                           "target": "lines[0].itemNo"}}, {})]
    with pytest.raises(NodeError) as err:
        connector_http.send(requests.Session(), "POST", http_target.url + "/orders", timeout_s=5, json={"no": 1},
                            headers={"Authorization": "Bearer s3cret-token", "X-Api-Key": "k3y", "X-Trace": "t1"})
    e = err.value
    assert e.code == "http_4xx" and e.field == "lines[0].itemNo"
    assert e.message.startswith("item_not_found: Item IPOD2008GREEN does not exist. (at lines[0].itemNo); HTTP 422")
    sent = e.details["request"]
    assert (sent["method"], sent["url"], sent["body"]) == ("POST", http_target.url + "/orders", {"no": 1})
    assert sent["headers"]["Authorization"] == "***" and sent["headers"]["X-Api-Key"] == "***"
    assert sent["headers"]["X-Trace"] == "t1"
    assert "s3cret" not in repr(e.to_dict()) and "k3y" not in repr(e.to_dict())
    assert e.details["remote"]["code"] == "item_not_found" and e.details["status"] == 422


def test_secret_query_arguments_of_the_url_are_masked():
    request = requests.Request("GET", "https://erp.example/items?api_key=k3y&page=2&signature=abc").prepare()
    masked = "https://erp.example/items?api_key=%2A%2A%2A&page=2&signature=%2A%2A%2A"
    assert remote_errors.sent(request)["url"] == masked


def test_a_refusal_without_a_known_shape_names_the_url_with_its_secret_arguments_masked(http_target):
    http_target.script = [(404, {"nothing": "here"}, {})]
    with pytest.raises(NodeError) as err:
        connector_http.send(requests.Session(), "GET", http_target.url + "/items?api_key=k3y&page=2", timeout_s=5,
                            headers={})
    assert "k3y" not in err.value.message and "api_key=%2A%2A%2A&page=2" in err.value.message
    assert "k3y" not in err.value.details["request"]["url"]
