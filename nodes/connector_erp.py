"""connector.erp: the ERP profile (Business Central-like): sales orders, items and availability, shipments,
invoices, credit memos and the item journal, on a named connection. Every ERP write honours an Idempotency-Key."""
from __future__ import annotations

from typing import Any

from flows.spec import NodeSpec, Port
from nodes import system_profile
from nodes.base import Context, Emit, PrepareEnv
from nodes.system_profile import Operation

OPERATIONS = (
    Operation("upsert_sales_order", "Create or replace a sales order (by external document no.)", "POST",
              "sales-orders", repeat="key"),
    Operation("find_sales_order", "Find sales orders by external document no.", "GET",
              "sales-orders?externalDocumentNo={{$.number}}", result="value"),
    Operation("get_sales_order", "Read a sales order", "GET", "sales-orders/{{$.erp_no}}"),
    Operation("release_sales_order", "Release a sales order (credit check)", "POST",
              "sales-orders/{{$.erp_no}}/release", body="{}",
              repeat="key"),
    Operation("get_availability", "Availability of an item per location", "GET", "items/{{$.item_no}}/availability"),
    Operation("list_items", "Items with their inventory (all locations, base unit)", "GET", "items?$top=1000",
              result="value"),
    Operation("post_shipment", "Post a sales shipment", "POST", "sales-orders/{{$.erp_no}}/shipments",
              repeat="key"),
    Operation("create_invoice", "Invoice shipped quantities", "POST", "sales-orders/{{$.erp_no}}/invoice", body="{}",
              repeat="key"),
    Operation("create_credit_memo", "Credit returned goods (restock or scrap)", "POST", "sales-credit-memos", repeat="key"),
    Operation("post_item_journal", "Post an item journal line (adjustment, physical count)", "POST", "item-journal",
              repeat="key"),
    Operation("list_backorders", "Open backordered lines", "GET", "backorder-lines", result="value"),
)
Config = system_profile.config_schema(OPERATIONS, "ERP")

SPEC = NodeSpec(
    type="connector.erp", version=1, category="connector", title="ERP",
    description="Calls an operation of the ERP on a workspace connection; 5xx, 429 and timeouts are retried.",
    inputs=(Port("in"),), outputs=(Port("out", "Answer", optional=True), Port("error", "Request failed")),
    config=Config, expressions=("body", "each"), references=system_profile.references("erp"),
    icon="building", tags=("erp", "system"),
)


def prepare(config: dict, env: PrepareEnv) -> system_profile.Prepared:
    return system_profile.prepare(OPERATIONS, config, env)


def run(prepared: system_profile.Prepared, message: Any, ctx: Context) -> Emit:
    return system_profile.run(prepared, message, ctx)
