"""OMS note attributes (Shopify's `note_attributes`): the name/value pairs a checkout adds to an order, such as a
delivery date picker's `requested_delivery_date`; kept as text on create and PATCH, bounded."""
from __future__ import annotations

import pytest

from sandbox.oms import MAX_ATTRIBUTE_TEXT, MAX_ATTRIBUTES

ORDERS = "/oms/api/orders"
LINES = [{"sku": "hw-20620-c", "quantity": 3}]


def test_an_order_keeps_its_note_attributes_as_text_and_a_patch_replaces_them(sbx):
    attributes = [{"name": "requested_delivery_date", "value": "2026-12-03"}, {"name": "dock", "value": 7}]
    r = sbx.post(ORDERS, json={"order": {"customer": {"id": 7001}, "line_items": LINES,
                                         "note_attributes": attributes}})
    assert r.status_code == 201, r.json
    order = r.json["order"]
    assert order["note_attributes"] == [{"name": "requested_delivery_date", "value": "2026-12-03"},
                                        {"name": "dock", "value": "7"}]
    assert sbx.get(f"{ORDERS}/{order['id']}").json["order"]["note_attributes"] == order["note_attributes"]
    plain = sbx.post(ORDERS, json={"order": {"customer": {"id": 7001}, "line_items": LINES}}).json["order"]
    assert plain["note_attributes"] == []  # always there, as in Shopify

    later = [{"name": "requested_delivery_date", "value": "2026-12-05"}]
    r = sbx.patch(f"{ORDERS}/{order['id']}", json={"order": {"note_attributes": later}}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json["order"]["note_attributes"] == later


@pytest.mark.parametrize("attributes, field", [
    ("2026-12-03", "note_attributes"),
    (["requested_delivery_date"], "note_attributes"),
    ([{"name": "x", "value": str(i)} for i in range(MAX_ATTRIBUTES + 1)], "note_attributes"),
    ([{"value": "2026-12-03"}], "note_attributes[0].name"),
    ([{"name": "a", "value": {"date": "2026-12-03"}}], "note_attributes[0].value"),
    ([{"name": "a", "value": "x" * (MAX_ATTRIBUTE_TEXT + 1)}], "note_attributes[0]"),
    ([{"name": "a", "value": "1"}, {"name": "a", "value": "2"}], "note_attributes[1].name"),
])
def test_bad_note_attributes_are_422_naming_the_field_and_create_nothing(sbx, attributes, field):
    r = sbx.post(ORDERS, json={"order": {"customer": {"id": 7001}, "line_items": LINES,
                                         "note_attributes": attributes}})
    assert r.status_code == 422 and list(r.json["errors"]) == [field], r.json
    assert sbx.get(ORDERS).json["orders"] == []
