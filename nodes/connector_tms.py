"""connector.tms: the transportation system kind: its canonical operations (carriers, rate quotes, booking
shipments, tracking) called on a named connection, carried out by the product profile the `product` field
names (nodes/products/, tms.generic by default)."""
from __future__ import annotations

from typing import Any

from flows.spec import NodeSpec, Port
from nodes import product, system_profile
from nodes.base import Context, Emit, PrepareEnv
from nodes.products import tms_generic

OPERATIONS = tuple((o.name, o.title) for o in tms_generic.OPERATIONS)  # the first product's are the contract
Config = product.config_schema("tms", OPERATIONS, "tms.generic", "TMS")

SPEC = NodeSpec(
    type="connector.tms", version=1, category="connector", title="TMS",
    description="Calls an operation of the transportation management system on a workspace connection.",
    inputs=(Port("in"),), outputs=(Port("out", "Answer", optional=True), Port("error", "Request failed")),
    config=Config, expressions=("body", "each"), references=system_profile.references("tms"),
    icon="truck", tags=("tms", "system"), summary="{{operation}}[ on {{connection}}]",
)


def prepare(config: dict, env: PrepareEnv) -> system_profile.Prepared:
    return product.prepare(config, env)


def run(prepared: system_profile.Prepared, message: Any, ctx: Context) -> Emit:
    return system_profile.run(prepared, message, ctx)
