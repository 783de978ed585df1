"""connector.wms: the warehouse profile (Manhattan-like, eaches): shipping orders, inventory, expected
receipts (returns), on a named connection. The WMS does not honour Idempotency-Keys: a create first looks the
document up by its number and is not sent again when it is there."""
from __future__ import annotations

from typing import Any

from flows.spec import NodeSpec, Port
from nodes import system_profile
from nodes.base import Context, Emit, PrepareEnv
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
Config = system_profile.config_schema(OPERATIONS, "WMS")

SPEC = NodeSpec(
    type="connector.wms", version=1, category="connector", title="WMS",
    description="Calls an operation of the warehouse management system on a workspace connection.",
    inputs=(Port("in"),), outputs=(Port("out", "Answer", optional=True), Port("error", "Request failed")),
    config=Config, expressions=("body", "each"), references=system_profile.references("wms"),
    icon="warehouse", tags=("wms", "system"),
)


def prepare(config: dict, env: PrepareEnv) -> system_profile.Prepared:
    return system_profile.prepare(OPERATIONS, config, env)


def run(prepared: system_profile.Prepared, message: Any, ctx: Context) -> Emit:
    return system_profile.run(prepared, message, ctx)
