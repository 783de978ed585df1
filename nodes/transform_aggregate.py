"""transform.aggregate: gather messages by correlation id until the group is complete (the split's count, or a fixed
number) or its timeout passes, then emit one message with the parts in index order (the aggregator).

Parts and groups live in the database (ctx.aggregates, runtime/aggregates.py), so a worker restart loses nothing and
a redelivered part is stored once. The message of the run that opened a group waits at the node (Wait) and emits
the result: on `out` when complete, on `partial` (`complete: false`, `missing` indexes) at the deadline. Every other
part ends here once stored in its group; a part that comes after its group was emitted is a `group_closed` error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit, NodeError, PrepareEnv, Wait, compile_field, evaluate_field
from nodes.expression import Expression
from nodes.transform_split import MAX_PARTS, correlation_id

MAX_TIMEOUT_S = 7 * 24 * 3600
# A wake that is lost (the group completed by another run while the owner's run was still running) makes the result
# late, never lost: the owner's message looks at its group again after RECHECK_S, or a quarter of the group's age when
# that is longer (so a group open for days is looked at a few dozen times, not every minute), until the deadline
RECHECK_S = 60.0
RECHECK_SHARE = 0.25


class Config(Schema):
    """How a message names its group and place, how many parts make a group, and how long to wait for them."""

    correlation = fields.String(load_default="split.correlation", validate=validate.Length(min=1, max=20_000),
                                metadata={"title": "Correlation id", "format": "jsonata",
                                          "description": "JSONata giving the id of the message's group"})
    index = fields.String(load_default="split.index", validate=validate.Length(min=1, max=20_000), metadata={
        "title": "Index", "format": "jsonata", "description": "JSONata giving the part's place, from 0"})
    count = fields.String(load_default="split.count", validate=validate.Length(min=1, max=20_000), metadata={
        "title": "Count", "format": "jsonata",
        "description": "JSONata giving how many parts make the group complete, or a fixed number such as 10"})
    part = fields.String(load_default="", validate=validate.Length(max=20_000), metadata={
        "title": "Part", "format": "jsonata", "description": "JSONata giving what is kept of each message, e.g. "
                                                               "line; empty: the whole message"})
    timeout_s = fields.Float(load_default=3600.0, validate=validate.Range(min=0.1, max=MAX_TIMEOUT_S), metadata={
        "title": "Timeout (s)", "description": "After this long from the first part, what was gathered goes on "
                                               "`partial`, flagged incomplete"})
    result = fields.String(load_default="", validate=validate.Length(max=20_000), metadata={
        "title": "Result", "format": "jsonata",
        "description": "JSONata building the output from {correlation, parts, count, received, complete, missing}; "
                       "empty: that object itself"})


SPEC = NodeSpec(
    type="transform.aggregate", version=1, category="transform", title="Aggregate",
    description="Gathers messages by correlation id until complete, a count, or a timeout; emits the parts in "
                "order, a timed-out group flagged partial.",
    inputs=(Port("in"),),
    outputs=(Port("out", "Complete"), Port("partial", "Timed out, incomplete"), Port("error", "Part rejected")),
    config=Config, expressions=("correlation", "index", "count", "part", "result"), icon="aggregate",
    tags=("aggregator", "gather", "eip"), summary="by {{correlation}}",
)


@dataclass(frozen=True)
class Prepared:
    correlation: Expression
    index: Expression
    count: Expression
    part: Expression | None
    timeout_s: float
    result: Expression | None


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    optional = {f: compile_field(config[f], f) if config[f] else None for f in ("part", "result")}
    return Prepared(compile_field(config["correlation"], "correlation"), compile_field(config["index"], "index"),
                    compile_field(config["count"], "count"), optional["part"], config["timeout_s"], optional["result"])


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    correlation = correlation_id(evaluate_field(prepared.correlation, message, ctx, "correlation"))
    count = _whole(evaluate_field(prepared.count, message, ctx, "count"), "count", 1, MAX_PARTS)
    index = _whole(evaluate_field(prepared.index, message, ctx, "index"), "index", 0, count - 1)
    part = evaluate_field(prepared.part, message, ctx, "part") if prepared.part is not None else message
    got = ctx.aggregates.gather(correlation, index, count, part, prepared.timeout_s)
    if got.completed and not got.owner and got.owner_run != ctx.run_id:
        ctx.wake(got.owner_run)  # the owner's run emits the result; in this run it sees it before parking
    if not got.owner:
        ctx.note({"gathered": {"correlation": correlation, "index": index, "count": count, "owner_run": got.owner_run,
                               "stored": got.stored}})  # stored False: this part was gathered before
        return  # the part lives in its group now; the owner's message carries it on
    if got.status == "open":
        recheck = max(RECHECK_S, got.age_s * RECHECK_SHARE)
        raise Wait(f"gathering {correlation!r}: {got.received} of {count} parts", min(got.wait_s, recheck),
                   details={"correlation": correlation, "group": got.group, "received": got.received,
                            "count": count, "deadline_in_s": round(got.wait_s, 3)})
    complete = got.status == "complete"
    gathered = {"correlation": correlation, "parts": got.parts, "count": count, "received": len(got.parts or ()),
                "complete": complete, "missing": got.missing or []}
    output = evaluate_field(prepared.result, gathered, ctx, "result") if prepared.result is not None else gathered
    yield ("out" if complete else "partial"), output


def _whole(value: Any, field: str, low: int, high: int) -> int:
    """A whole number from low to high, or a business NodeError naming the field."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise NodeError(f"{field}_invalid", f"{field}: the expression must give a whole number, not "
                        f"{'nothing' if value is None else type(value).__name__}", field=field)
    if not low <= value <= high:
        raise NodeError(f"{field}_invalid", f"{field}: {value} is outside {low}..{high}", field=field,
                        details={"value": value, "min": low, "max": high})
    return value
