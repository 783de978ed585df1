"""oms.shopify: the order-management operations on a Shopify-like API (the sandbox's /oms/api is its double):
orders, fulfillments, refunds, inventory levels and webhook subscriptions. Creations honour an Idempotency-Key;
status changes and inventory sets are idempotent by nature; errors are {"errors": ...}."""
from __future__ import annotations

from typing import Any

from nodes.product import Profile
from nodes.system_profile import Operation

OPERATIONS = (
    Operation("get_order", "Read an order", "GET", "orders/{{$.source_id}}", result="order"),
    Operation("update_order", "Change an order's status, note or tags", "PATCH", "orders/{{$.source_id}}",
              result="order", repeat="natural"),
    Operation("create_fulfillment", "Record shipped lines with carrier and tracking", "POST",
              "orders/{{$.source_id}}/fulfillments", result="order", repeat="key"),
    Operation("create_refund", "Refund an order", "POST", "orders/{{$.source_id}}/refunds", result="order",
              repeat="key"),
    Operation("set_inventory", "Set the available quantity of a SKU", "POST", "inventory_levels/set",
              result="inventory_level", repeat="natural"),
    Operation("list_inventory", "Inventory levels", "GET", "inventory_levels?limit=250", result="inventory_levels"),
    Operation("subscribe_webhook", "Subscribe a URL to a topic", "POST", "webhook-subscriptions", result="webhook",
              repeat="key"),
)


def error(body: Any) -> tuple[str, str] | None:
    found = body.get("errors") if isinstance(body, dict) else None
    if isinstance(found, str):
        return "error", found
    if isinstance(found, dict) and found:
        return "invalid", "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                                    for k, v in found.items())
    return None


PROFILE = Profile("oms.shopify", "Shopify", OPERATIONS, error=error)
