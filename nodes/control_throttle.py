"""control.throttle: a token bucket per target system, shared by every flow of the workspace in every worker
process (runtime/throttles.py). A message passes once it has a token; until then its run is parked `queued` (the step
shows `waiting`), which is no failure. The token is taken only when the message passes, so a parked message that
runs again neither loses one nor takes two."""
from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, fields, post_load, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit, NodeError, Wait

MAX_RATE = 10_000.0
MAX_BURST = 10_000
MAX_CONCURRENT = 1_000
MAX_HOLD_S = 3_600.0


class Config(Schema):
    """The limited system and its limits: `rate_per_s` calls a second on average, `burst` at once after a pause,
    and optionally at most `concurrent` calls started within any `hold_s` seconds."""

    target = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{1,64}$", error=(
        "1-64 letters, digits and _ . : -")), metadata={
        "title": "Target system", "description": "e.g. erp; every flow of the workspace with this target shares "
        "one bucket, so give them the same limits"})
    rate_per_s = fields.Float(required=True, validate=validate.Range(min=0.001, max=MAX_RATE), metadata={
        "title": "Calls per second", "description": "tokens added a second, e.g. 10 (0.5: one every 2 s)"})
    burst = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_BURST),
                           metadata={"title": "Burst", "description": "bucket size: calls that may pass at once "
                                     "after a pause; empty: the rate (at least 1)"})
    concurrent = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_CONCURRENT),
                                metadata={"title": "Concurrent calls", "description": "at most this many messages "
                                          "passed within any hold time (the node cannot see when the call ends)"})
    hold_s = fields.Float(load_default=5.0, validate=validate.Range(min=0.01, max=MAX_HOLD_S), metadata={
        "title": "Hold time (s)", "description": "how long a passed message holds a concurrency slot"})

    @post_load
    def _burst(self, data: dict, **kwargs) -> dict:
        if data.get("burst") is None:
            data["burst"] = max(1, min(MAX_BURST, math.floor(data["rate_per_s"])))
        return data


SPEC = NodeSpec(
    type="control.throttle", version=1, category="control", title="Throttle",
    description="Passes messages at most at the target system's rate (a token bucket per workspace and target, "
                "shared by its flows and workers); messages wait, parked, for a token.",
    inputs=(Port("in"),), outputs=(Port("out", "Passed"), Port("error", "Bucket unavailable")), config=Config,
    icon="gauge", tags=("rate limit", "throttle", "token bucket"),
    summary="{{target}}: {{rate_per_s}}/s[ burst {{burst}}][, {{concurrent}} at once]",
)


def run(config: dict, message: Any, ctx: Context) -> Emit:
    target = config["target"]
    if getattr(ctx, "throttles", None) is None:
        raise NodeError("throttle_unavailable", "this runtime gives steps no throttle buckets", field="target")
    wait = ctx.throttles.take(target, config["rate_per_s"], config["burst"], config.get("concurrent"),
                              config["hold_s"])
    if wait > 0:
        raise Wait(f"throttled: no token for {target} yet", after_s=wait,
                   details={"target": target, "rate_per_s": config["rate_per_s"], "burst": config["burst"]})
    yield "out", message
