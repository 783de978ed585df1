"""connector.wms: the warehouse system kind: its canonical operations (shipping orders, inventory, expected
receipts for returns) called on a named connection, carried out by the product profile the `product` field
names (nodes/products/, wms.manhattan by default)."""
from __future__ import annotations

from typing import Any

from flows.spec import NodeSpec, Port
from nodes import product, system_profile
from nodes.base import Context, Emit, PrepareEnv
from nodes.products import wms_manhattan

OPERATIONS = tuple((o.name, o.title) for o in wms_manhattan.OPERATIONS)  # the first product's are the contract

_TEXT, _NUMBER, _WHOLE = {"type": "string"}, {"type": "number"}, {"type": "integer"}
_ADDRESS = {"type": "object", "properties": {k: _TEXT for k in (
    "name", "address1", "address2", "city", "state", "postalCode", "country")}}


def _obj(required: tuple[str, ...], **properties) -> dict:
    return {"type": "object", "required": list(required), "properties": properties}


def _items(item: dict, least: int = 0) -> dict:
    return {"type": "array", "items": item, **({"minItems": least} if least else {})}


_LINE_IN = _obj(("itemId", "orderedQty"), lineNumber=_WHOLE, itemId=_TEXT, orderedQty=_WHOLE, uom={"enum": ["EA"]})
_LINE = _obj(("lineNumber", "itemId", "orderedQty", "allocatedQty"), lineNumber=_WHOLE, itemId=_TEXT,
             orderedQty=_WHOLE, allocatedQty=_WHOLE, pickedQty={"type": ["integer", "null"]}, shortPickedQty=_WHOLE,
             shippedQty=_WHOLE, uom=_TEXT)
_SHIPPING_ORDER = _obj(("id", "orderNumber", "status", "lines"), id=_TEXT, orderNumber=_TEXT, warehouseId=_TEXT,
                       waveId=_TEXT, statusCode=_WHOLE, status=_TEXT, shipTo=_ADDRESS, carrierCode=_TEXT,
                       serviceLevel=_TEXT, reference=_TEXT, lines=_items(_LINE))
_STOCK = _obj(("itemId",), itemId=_TEXT, warehouseId=_TEXT, onHand=_WHOLE, allocated=_WHOLE, available=_WHOLE)
_RECEIPT = _obj(("receiptNumber", "lines"), id=_TEXT, receiptNumber=_TEXT, receiptType=_TEXT, warehouseId=_TEXT,
                status=_TEXT, lines=_items(_obj(("itemId", "expectedQty"), lineNumber=_WHOLE, itemId=_TEXT,
                                                expectedQty=_WHOLE, receivedQty=_WHOLE)))
# operation -> (what it takes: the body of a write, the message of a read; what it answers), in eaches
SCHEMAS = {
    "create_shipping_order": (_obj(("orderNumber", "lines"), orderNumber=_TEXT, warehouseId=_TEXT, reference=_TEXT,
                                   carrierCode=_TEXT, serviceLevel=_TEXT, shipTo=_ADDRESS,
                                   lines=_items(_LINE_IN, 1)), _SHIPPING_ORDER),
    "find_shipping_order": (_obj(("order_number",), order_number=_TEXT), _items(_SHIPPING_ORDER)),
    "get_inventory": (_obj(("item_no",), item_no=_TEXT), _STOCK),
    "list_inventory": ({"type": "object"}, _items(_STOCK)),
    "create_expected_receipt": (_obj(("receiptNumber", "lines"), receiptNumber=_TEXT, receiptType=_TEXT,
                                     warehouseId=_TEXT, reference=_TEXT, lines=_items(_obj(
                                         ("itemId", "expectedQty"), lineNumber=_WHOLE, itemId=_TEXT,
                                         expectedQty=_WHOLE), 1)), _RECEIPT),
    "find_expected_receipt": (_obj(("rma",), rma=_TEXT), _items(_RECEIPT)),
}

Config = product.config_schema("wms", OPERATIONS, "wms.manhattan", "WMS")

SPEC = NodeSpec(
    type="connector.wms", version=1, category="connector", title="WMS",
    description="Calls an operation of the warehouse management system on a workspace connection.",
    inputs=(Port("in"),), outputs=(Port("out", "Answer", optional=True), Port("error", "Request failed")),
    config=Config, expressions=("body", "each"), references=system_profile.references("wms"),
    icon="warehouse", tags=("wms", "system"), summary="{{operation}}[ on {{connection}}]",
)


def prepare(config: dict, env: PrepareEnv) -> system_profile.Prepared:
    return product.prepare(config, env)


def run(prepared: system_profile.Prepared, message: Any, ctx: Context) -> Emit:
    return system_profile.run(prepared, message, ctx)
