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
