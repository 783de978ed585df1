"""wms.manhattan: the warehouse operations on a Manhattan-like API in eaches (the sandbox's /wms/api is its
double): shipping orders, inventory, expected receipts. The WMS does not honour Idempotency-Keys: a create first
looks the document up by its number and is not sent again when it is there. Errors are {"messages": [...]}."""
from __future__ import annotations

from typing import Any

from nodes.product import Profile
from nodes.system_profile import Operation

OPERATIONS = (
    Operation("create_shipping_order", "Send a shipping order (allocated, waved by cutoff)", "POST",
              "shipping-orders", result="data", repeat="lookup",
              existing=("shipping-orders?orderNumber={{$.orderNumber}}", "data")),
    Operation("find_shipping_order", "Find a shipping order by order number", "GET",
              "shipping-orders?orderNumber={{$.order_number}}", result="data"),
    Operation("get_inventory", "Stock of one item", "GET", "inventory/{{$.item_no}}", result="data"),
    Operation("list_inventory", "Stock of every item", "GET", "inventory?pageSize=500", result="data"),
    Operation("create_expected_receipt", "Announce a return (expected receipt)", "POST", "expected-receipts",
              result="data", repeat="lookup",
              existing=("expected-receipts?receiptNumber={{$.receiptNumber}}", "data")),
    Operation("find_expected_receipt", "Find an expected receipt by number", "GET",
              "expected-receipts?receiptNumber={{$.rma}}", result="data"),
)


def error(body: Any) -> tuple[str, str] | None:
    messages = body.get("messages") if isinstance(body, dict) else None
    first = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else None
    return (str(first.get("messageKey", "")), str(first.get("description", ""))) if first else None


PROFILE = Profile("wms.manhattan", "Manhattan", OPERATIONS, error=error)
