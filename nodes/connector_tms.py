"""connector.tms: the transportation profile: carriers, rate quotes, booking shipments, tracking,
on a named connection. Bookings are looked up by reference before they are sent (the TMS does not honour
Idempotency-Keys); a quote books nothing."""
from __future__ import annotations

from typing import Any

from flows.spec import NodeSpec, Port
from nodes import system_profile
from nodes.base import Context, Emit, PrepareEnv
from nodes.system_profile import Operation

OPERATIONS = (
    Operation("list_carriers", "Carriers and their services", "GET", "carriers", result="items"),
    Operation("rate_quote", "Rates for packages between two postal codes", "POST", "rate-quotes", repeat="natural"),
    Operation("book_shipment", "Book a shipment (returns the tracking number)", "POST", "shipments",
              repeat="lookup", existing=("shipments?reference={{$.reference}}", "items")),
    Operation("track", "Tracking events of a tracking number", "GET", "tracking/{{$.tracking_number}}"),
)
Config = system_profile.config_schema(OPERATIONS, "TMS")

SPEC = NodeSpec(
    type="connector.tms", version=1, category="connector", title="TMS",
    description="Calls an operation of the transportation management system on a workspace connection.",
    inputs=(Port("in"),), outputs=(Port("out", "Answer", optional=True), Port("error", "Request failed")),
    config=Config, expressions=("body", "each"), references=system_profile.references("tms"),
    icon="truck", tags=("tms", "system"),
)


def prepare(config: dict, env: PrepareEnv) -> system_profile.Prepared:
    return system_profile.prepare(OPERATIONS, config, env)


def run(prepared: system_profile.Prepared, message: Any, ctx: Context) -> Emit:
    return system_profile.run(prepared, message, ctx)
