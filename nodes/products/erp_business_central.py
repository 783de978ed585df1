"""erp.business_central: the ERP operations on a Business Central-like API (the sandbox's /erp/api is its
double). Its shapes are the ERP's canonical ones, so nothing is mapped; every write honours an Idempotency-Key;
lists continue by @odata.nextLink; errors are {"error": {"code", "message"}}."""
from __future__ import annotations

from typing import Any

from nodes.product import Profile
from nodes.system_profile import Operation

OPERATIONS = (
    Operation("upsert_sales_order", "Create or replace a sales order (by external document no.)", "POST",
              "sales-orders", repeat="key"),
    Operation("find_sales_order", "Find sales orders by external document no.", "GET",
              "sales-orders?externalDocumentNo={{$.number}}", result="value"),
    Operation("get_sales_order", "Read a sales order", "GET", "sales-orders/{{$.erp_no}}"),
    Operation("release_sales_order", "Release a sales order (credit check)", "POST",
              "sales-orders/{{$.erp_no}}/release", body="{}", repeat="key"),
    Operation("get_availability", "Availability of an item per location", "GET", "items/{{$.item_no}}/availability"),
    Operation("list_items", "Items with their inventory (all locations, base unit)", "GET", "items?$top=1000",
              result="value"),
    Operation("post_shipment", "Post a sales shipment", "POST", "sales-orders/{{$.erp_no}}/shipments",
              repeat="key"),
    Operation("create_invoice", "Invoice shipped quantities", "POST", "sales-orders/{{$.erp_no}}/invoice", body="{}",
              repeat="key"),
    Operation("create_credit_memo", "Credit returned goods (restock or scrap)", "POST", "sales-credit-memos",
              repeat="key"),
    Operation("post_item_journal", "Post an item journal line (adjustment, physical count)", "POST", "item-journal",
              repeat="key"),
    Operation("list_backorders", "Open backordered lines", "GET", "backorder-lines", result="value"),
)


def error(body: Any) -> tuple[str, str] | None:
    found = body.get("error") if isinstance(body, dict) else None
    if isinstance(found, dict) and found.get("code"):
        return str(found["code"]), str(found.get("message", ""))
    return None


PROFILE = Profile("erp.business_central", "Business Central", OPERATIONS, paging="odata", error=error)
