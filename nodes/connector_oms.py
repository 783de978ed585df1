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
