"""connector.erp: the ERP system kind and its canonical operation contract: each operation takes the same message
in and gives the same answer out whichever product the `product` field names (nodes/products/erp_*.py map to and
from their own API), so a flow switches ERP by a param. The shapes are written down as JSON Schemas below."""
from __future__ import annotations

from typing import Any

from flows.spec import NodeSpec, Port
from nodes import product, products, system_profile  # noqa: F401 - products registers the profiles Config offers
from nodes.base import Context, Emit, PrepareEnv

OPERATIONS = (
    ("upsert_sales_order", "Create or replace a sales order (by external document no.)"),
    ("find_sales_order", "Find sales orders by external document no."),
    ("get_sales_order", "Read a sales order"),
    ("release_sales_order", "Release a sales order (credit check)"),
    ("get_availability", "Availability of an item per location"),
    ("list_items", "Items with their inventory (all locations, base unit)"),
    ("post_shipment", "Post a sales shipment"),
    ("create_invoice", "Invoice shipped quantities"),
    ("create_credit_memo", "Credit returned goods (restock or scrap)"),
    ("post_item_journal", "Post an item journal line (adjustment, physical count)"),
    ("list_backorders", "Open backordered lines"),
)

_TEXT, _NUMBER, _WHOLE = {"type": "string"}, {"type": "number"}, {"type": "integer"}
SALES_ORDER_IN = {  # upsert_sales_order's body
    "type": "object", "required": ["externalDocumentNo", "customerNo", "lines"],
    "properties": {
        "externalDocumentNo": _TEXT, "customerNo": _TEXT, "orderDate": _TEXT, "currencyCode": _TEXT,
        "shipmentMethodCode": _TEXT, "release": {"type": "boolean"},
        "shipTo": {"type": "object", "properties": {k: _TEXT for k in (
            "name", "address", "address2", "city", "county", "postCode", "countryRegionCode")}},
        "lines": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["itemNo", "quantity"],
            "properties": {"lineNo": _WHOLE, "itemNo": _TEXT, "quantity": _WHOLE, "unitOfMeasureCode": _TEXT,
                           "unitPrice": _NUMBER, "lineDiscountAmount": _NUMBER, "sourceLineNo": {}}}}}}
SALES_ORDER = {  # the answer of every sales-order operation
    "type": "object", "required": ["no", "externalDocumentNo", "customerNo", "status", "lines"],
    "properties": {
        "no": _TEXT, "externalDocumentNo": _TEXT, "customerNo": _TEXT,
        "status": {"enum": ["Open", "Released", "Hold", "Closed", "Cancelled"]},
        "holdReason": {"type": ["string", "null"]}, "amount": _NUMBER, "currencyCode": {"type": ["string", "null"]},
        "lines": {"type": "array", "items": {
            "type": "object", "required": ["lineNo", "itemNo", "quantity", "unitOfMeasureCode", "qtyPerUnitOfMeasure",
                                           "quantityReserved", "quantityBackordered", "quantityShipped"],
            "properties": {"lineNo": _WHOLE, "itemNo": _TEXT, "quantity": _WHOLE, "unitOfMeasureCode": _TEXT,
                           "qtyPerUnitOfMeasure": _WHOLE, "unitPrice": _NUMBER, "lineAmount": _NUMBER,
                           "quantityReserved": _WHOLE, "quantityBackordered": _WHOLE, "quantityShipped": _WHOLE}}}}}
AVAILABILITY = {
    "type": "object", "required": ["itemNo", "locations"],
    "properties": {"itemNo": _TEXT, "baseUnitOfMeasureCode": _TEXT, "locations": {"type": "array", "items": {
        "type": "object", "required": ["locationCode", "inventory", "availableQuantity"],
        "properties": {"locationCode": _TEXT, "inventory": _WHOLE, "reservedQuantity": _WHOLE,
                       "availableQuantity": _WHOLE}}}}}
ITEM = {
    "type": "object", "required": ["number", "baseUnitOfMeasureCode", "inventory"],
    "properties": {"number": _TEXT, "displayName": _TEXT, "baseUnitOfMeasureCode": _TEXT, "unitPrice": _NUMBER,
                   "inventory": _WHOLE, "itemUnitsOfMeasure": {"type": "array"}}}


def _message(*names: str) -> dict:  # what a read's path takes from the message
    return {"type": "object", "required": list(names), "properties": {n: {"type": ["string", "integer"]}
                                                                      for n in names}}


SHIPMENT_IN = {  # post_shipment's body: what left, per sales-order line, in the line's unit of measure
    "type": "object", "required": ["lines"],
    "properties": {"externalDocumentNo": _TEXT, "packageTrackingNo": _TEXT, "shippingAgentCode": _TEXT,
                   "lines": {"type": "array", "minItems": 1, "items": {
                       "type": "object", "required": ["lineNo", "quantity"],
                       "properties": {"lineNo": _WHOLE, "quantity": _NUMBER}}}}}
CREDIT_MEMO_IN = {
    "type": "object", "required": ["externalDocumentNo", "customerNo", "lines"],
    "properties": {"externalDocumentNo": _TEXT, "customerNo": _TEXT, "lines": {
        "type": "array", "minItems": 1, "items": {"type": "object", "required": ["itemNo", "quantity"],
        "properties": {"itemNo": _TEXT, "quantity": _WHOLE, "unitOfMeasureCode": _TEXT,
                       "disposition": {"enum": ["RESTOCK", "SCRAP"]}, "unitPrice": _NUMBER,
                       "lineDiscountAmount": _NUMBER}}}}}
ITEM_JOURNAL_IN = {
    "type": "object", "required": ["itemNo", "entryType", "quantity"],
    "properties": {"itemNo": _TEXT, "entryType": {"enum": ["Positive Adjmt.", "Negative Adjmt."]},
                   "quantity": _NUMBER, "locationCode": _TEXT, "documentNo": _TEXT}}
DOCUMENT = {"type": "object", "required": ["no"], "properties": {  # a posted document's answer
    "no": _TEXT, "externalDocumentNo": _TEXT, "customerNo": _TEXT, "amount": _NUMBER,
    "lines": {"type": "array", "items": {"type": "object"}}}}
BACKORDER = {"type": "object", "required": ["documentNo", "itemNo", "quantityBackordered"], "properties": {
    "documentNo": _TEXT, "externalDocumentNo": _TEXT, "lineNo": _WHOLE, "itemNo": _TEXT,
    "quantityBackordered": _WHOLE}}

# operation -> (what it takes: the body of a write, the message of a read; what it answers)
SCHEMAS = {
    "upsert_sales_order": (SALES_ORDER_IN, SALES_ORDER),
    "find_sales_order": (_message("number"), {"type": "array", "items": SALES_ORDER}),
    "get_sales_order": (_message("erp_no"), SALES_ORDER),
    "release_sales_order": (_message("erp_no"), SALES_ORDER),
    "get_availability": (_message("item_no"), AVAILABILITY),
    "list_items": ({"type": "object"}, {"type": "array", "items": ITEM}),
    "post_shipment": (SHIPMENT_IN, DOCUMENT),
    "create_invoice": ({"type": "object"}, DOCUMENT),
    "create_credit_memo": (CREDIT_MEMO_IN, DOCUMENT),
    "post_item_journal": (ITEM_JOURNAL_IN, {"type": "object"}),
    "list_backorders": ({"type": "object"}, {"type": "array", "items": BACKORDER}),
}

Config = product.config_schema("erp", OPERATIONS, "erp.business_central", "ERP")

SPEC = NodeSpec(
    type="connector.erp", version=1, category="connector", title="ERP",
    description="Calls an operation of the ERP on a workspace connection; the product's profile maps it to the "
                "product's API. 5xx, 429 and timeouts are retried.",
    inputs=(Port("in"),), outputs=(Port("out", "Answer", optional=True), Port("error", "Request failed")),
    config=Config, expressions=("body", "each"), references=system_profile.references("erp"),
    icon="building", tags=("erp", "system"), summary="{{operation}}[ on {{connection}}]",
)


def prepare(config: dict, env: PrepareEnv) -> system_profile.Prepared:
    return product.prepare(config, env)


def run(prepared: system_profile.Prepared, message: Any, ctx: Context) -> Emit:
    return system_profile.run(prepared, message, ctx)
