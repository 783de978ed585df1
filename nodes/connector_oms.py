"""connector.oms: the order-management profile (Shopify-like): orders and their status, fulfillments,
refunds, inventory levels and webhook subscriptions, on a named connection. Creations honour an Idempotency-Key;
status changes and inventory sets are idempotent by nature."""
from __future__ import annotations

from typing import Any

from flows.spec import NodeSpec, Port
from nodes import system_profile
from nodes.base import Context, Emit, PrepareEnv
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
Config = system_profile.config_schema(OPERATIONS, "OMS")

SPEC = NodeSpec(
    type="connector.oms", version=1, category="connector", title="OMS",
    description="Calls an operation of the order-management system on a workspace connection.",
    inputs=(Port("in"),), outputs=(Port("out", "Answer", optional=True), Port("error", "Request failed")),
    config=Config, expressions=("body", "each"), references=system_profile.references("oms"),
    icon="shopping-cart", tags=("oms", "system"),
)


def prepare(config: dict, env: PrepareEnv) -> system_profile.Prepared:
    return system_profile.prepare(OPERATIONS, config, env)


def run(prepared: system_profile.Prepared, message: Any, ctx: Context) -> Emit:
    return system_profile.run(prepared, message, ctx)
