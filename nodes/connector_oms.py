"""connector.oms: the order-management system kind: its canonical operations (orders and their status,
fulfillments, refunds, inventory levels, webhook subscriptions) called on a named connection, carried out by the
product profile the `product` field names (nodes/products/, oms.shopify by default)."""
from __future__ import annotations

from typing import Any

from flows.spec import NodeSpec, Port
from nodes import product, system_profile
from nodes.base import Context, Emit, PrepareEnv
from nodes.products import oms_shopify

OPERATIONS = tuple((o.name, o.title) for o in oms_shopify.OPERATIONS)  # the first product's are the contract

_TEXT, _NUMBER, _WHOLE = {"type": "string"}, {"type": "number"}, {"type": "integer"}
_ADDRESS = {"type": "object", "properties": {k: _TEXT for k in (
    "name", "address1", "address2", "city", "province_code", "zip", "country_code")}}


def _obj(required: tuple[str, ...], **properties) -> dict:
    return {"type": "object", "required": list(required), "properties": properties}


def _items(item: dict, least: int = 0) -> dict:
    return {"type": "array", "items": item, **({"minItems": least} if least else {})}


_LINE = _obj(("sku", "quantity"), id=_WHOLE, sku=_TEXT, title=_TEXT, quantity=_WHOLE, price=_TEXT)
_ORDER = _obj(("id", "status", "line_items"), id=_WHOLE, name=_TEXT, status=_TEXT, email=_TEXT, currency=_TEXT,
              note={"type": ["string", "null"]}, tags=_TEXT, shipping_address=_ADDRESS, line_items=_items(_LINE),
              created_at=_TEXT)
_SOURCE = {"type": ["integer", "string"]}
# operation -> (what it takes: the body of a write, the message of a read; what it answers); writes are enveloped
# as the OMS takes them ({"order": ...}, {"fulfillment": ...}) and name the order by the message's source_id
SCHEMAS = {
    "get_order": (_obj(("source_id",), source_id=_SOURCE), _ORDER),
    "update_order": (_obj(("order",), order={"type": "object", "properties": {
        "status": {"enum": ["created", "on_hold", "released", "partially_shipped", "shipped", "return_requested",
                             "refunded", "cancelled"]},
        "note": _TEXT, "tags": _TEXT, "shipping_address": _ADDRESS, "cancel_reason": _TEXT}}), _ORDER),
    "create_fulfillment": (_obj(("fulfillment",), fulfillment=_obj(
        ("line_items",), tracking_company=_TEXT, tracking_number=_TEXT,
        line_items=_items(_obj(("quantity",), id=_WHOLE, sku=_TEXT, quantity=_WHOLE), 1))), _ORDER),
    "create_refund": (_obj(("refund",), refund=_obj((), note=_TEXT, amount=_NUMBER)), _ORDER),
    "set_inventory": (_obj(("sku", "available"), sku=_TEXT, available=_WHOLE, location_id=_TEXT),
                      _obj(("sku", "available"), sku=_TEXT, available=_WHOLE)),
    "list_inventory": ({"type": "object"}, _items(_obj(("sku", "available"), sku=_TEXT, available=_WHOLE))),
}

Config = product.config_schema("oms", OPERATIONS, "oms.shopify", "OMS")

SPEC = NodeSpec(
    type="connector.oms", version=1, category="connector", title="OMS",
    description="Calls an operation of the order-management system on a workspace connection.",
    inputs=(Port("in"),), outputs=(Port("out", "Answer", optional=True), Port("error", "Request failed")),
    config=Config, expressions=("body", "each"), references=system_profile.references("oms"),
    icon="shopping-cart", tags=("oms", "system"), summary="{{operation}}[ on {{connection}}]",
)


def prepare(config: dict, env: PrepareEnv) -> system_profile.Prepared:
    return product.prepare(config, env)


def run(prepared: system_profile.Prepared, message: Any, ctx: Context) -> Emit:
    return system_profile.run(prepared, message, ctx)
