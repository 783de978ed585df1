"""control.wait: correlate a later document. A message on `in` (the 940 released, the invoice sent) parks its run
until a message with the same key comes on `arrival` (the 945 shipment confirmation, the payment) from another
trigger of the flow, then goes on `out` with it; if none comes within `timeout_s` it goes on `timeout`, so an
absence becomes an exception instead of silence. The state lives in the database (ctx.waits, runtime/waits.py);
the run is parked by the executor (nodes.base.Wait) and woken by the arrival (ctx.wake)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit, NodeError, PrepareEnv, Wait, compile_field, evaluate_field
from nodes.expression import Expression

MAX_TIMEOUT_S = 30 * 86_400
MAX_HOLD_S = 7 * 86_400
MAX_KEY = 200
# An arrival that finds its waiting run still running (about to park) wakes it again after this long, for at most
# REWAKE_FOR_S; after that the run finds its match itself when it re-checks at its deadline.
REWAKE_AFTER_S = 1.0
REWAKE_FOR_S = 60.0


class Config(Schema):
    """How a waiting message and its arrival are matched, and how long each waits for the other."""

    key = fields.String(required=True, validate=validate.Length(1, 2000), metadata={
        "title": "Key", "format": "jsonata", "description": "On the waiting message, e.g. order.number"})
    arrival_key = fields.String(required=True, validate=validate.Length(1, 2000), metadata={
        "title": "Arrival key", "format": "jsonata", "description": "On the arrival, e.g. orderNumber"})
    timeout_s = fields.Float(required=True, validate=validate.Range(1, MAX_TIMEOUT_S), metadata={
        "title": "Timeout (s)", "description": "How long a message waits; then it goes on timeout (1 s to 30 days)"})
    hold_arrival_s = fields.Float(load_default=600.0, validate=validate.Range(0, MAX_HOLD_S), metadata={
        "title": "Hold arrivals (s)", "description": "How long an arrival nobody waits for yet is kept for a wait "
        "that comes later; then it is a dead letter (unmatched_arrival). 0: at once an error"})
    result = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20_000), metadata={
        "title": "Result", "format": "jsonata", "description": "On {waited, arrival}: what out carries; "
        "empty: {waited, arrival}"})


SPEC = NodeSpec(
    type="control.wait", version=1, category="control", title="Wait",
    description="Parks a message until a matching later document arrives from another trigger, or a timeout.",
    inputs=(Port("in", "Waiting message"), Port("arrival", "Later document")),
    outputs=(Port("out", "Matched"), Port("timeout", "Timed out"),
             Port("receipt", "Arrival delivered or held", optional=True), Port("error", "Wait failed")),
    config=Config, expressions=("key", "arrival_key", "result"), icon="hourglass",
    tags=("correlate", "await", "timeout", "945"),
    summary="{{key}} = {{arrival_key}} within {{timeout_s}} s",
)


@dataclass(frozen=True)
class Prepared:
    key: Expression
    arrival_key: Expression
    result: Expression | None
    timeout_s: float
    hold_arrival_s: float


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    return Prepared(key=compile_field(config["key"], "key"),
                    arrival_key=compile_field(config["arrival_key"], "arrival_key"),
                    result=compile_field(config["result"], "result") if config.get("result") else None,
                    timeout_s=float(config["timeout_s"]), hold_arrival_s=float(config["hold_arrival_s"]))


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    if getattr(ctx, "in_port", "in") == "arrival":
        yield from _arrive(prepared, message, ctx)
    else:
        yield from _wait(prepared, message, ctx)


def _wait(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    key = _key(prepared.key, message, ctx, "key")
    state = ctx.waits.wait(key, prepared.timeout_s)
    if state["status"] in ("matched", "completed"):
        matched = {"waited": message, "arrival": state["arrival"]}
        yield "out", evaluate_field(prepared.result, matched, ctx, "result") if prepared.result else matched
    elif state["status"] == "timed_out":
        ctx.log(f"no arrival for {key} within {prepared.timeout_s:g} s")
        yield "timeout", {"waited": message, "key": key, "waited_s": state["waited_s"],
                          "timeout_s": prepared.timeout_s}
    else:
        raise Wait(f"waiting for an arrival with key {key}", after_s=max(state["remaining_s"], 0.001),
                   details={"key": key, "deadline": state["deadline"]})


def _arrive(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    key = _key(prepared.arrival_key, message, ctx, "arrival_key")
    receipt = ctx.waits.arrive(key, message, prepared.hold_arrival_s)
    if receipt.get("unmatched"):
        raise NodeError("unmatched_arrival", f"no run waits for an arrival with key {key}", field="arrival_key",
                        details={"key": key})
    run_id = receipt.get("delivered_to")
    if run_id is not None and receipt.get("wait_status") == "matched" and not ctx.wake(run_id) \
            and receipt["age_s"] < REWAKE_FOR_S:  # the waiting run is running: it may park without seeing us
        raise Wait(f"run {run_id} is running; waking it again", after_s=REWAKE_AFTER_S,
                   details={"key": key, "delivered_to": run_id})
    yield "receipt", {"key": key, **({"delivered_to": run_id} if run_id is not None
                                     else {"held_until": receipt["held_until"]})}


def _key(expr: Expression, message: Any, ctx: Context, field: str) -> str:
    value = evaluate_field(expr, message, ctx, field)
    if value is None or isinstance(value, (dict, list)) or value == "" or isinstance(value, bool):
        raise NodeError("missing_key", f"{field}: the key is empty for this message", field=field)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 4711 and 4711.0 are the same order
    key = str(value)
    if len(key) > MAX_KEY:
        raise NodeError("key_too_long", f"{field}: the key is {len(key)} characters, over {MAX_KEY}", field=field)
    return key
