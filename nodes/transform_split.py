"""transform.split: one message with lines -> one message per line (the splitter), each carrying its correlation id,
its index and the count, so that transform.aggregate can gather them back in order.

Each part is `{...keep, "line": <the line>, "split": {"correlation": id, "index": i, "count": n}}`. A message with no
lines goes on `empty` unchanged (or is a `no_lines` error), so it is accounted for. At most MAX_PARTS parts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field
from nodes.expression import Expression

MAX_PARTS = 10_000
MAX_CORRELATION = 200  # characters of a correlation id (the aggregate's group key)


class Config(Schema):
    """Which array to split, and what each part carries."""

    lines = fields.String(required=True, validate=validate.Length(min=1, max=20_000), metadata={
        "title": "Lines", "format": "jsonata", "description": "JSONata selecting the array to split, e.g. order.lines"})
    correlation = fields.String(load_default="", validate=validate.Length(max=20_000), metadata={
        "title": "Correlation id", "format": "jsonata",
        "description": "JSONata giving the id the parts share, e.g. order.number; empty: the run id and this node"})
    keep = fields.String(load_default="", validate=validate.Length(max=20_000), metadata={
        "title": "Keep", "format": "jsonata",
        "description": "JSONata giving an object each part carries from the message, e.g. {'order': order ~> "
                       "|$|{}, ['lines']|}; empty: nothing but the line"})
    max_parts = fields.Integer(load_default=MAX_PARTS, strict=True, validate=validate.Range(min=1, max=MAX_PARTS),
                               metadata={"title": "Most parts",
                                         "description": f"More lines than this is a too_many_parts error "
                                                        f"(at most {MAX_PARTS:,})"})
    on_empty = fields.String(load_default="empty", validate=validate.OneOf(("empty", "error")), metadata={
        "title": "No lines", "description": "empty: the message goes on `empty` unchanged; error: a no_lines error"})


SPEC = NodeSpec(
    type="transform.split", version=1, category="transform", title="Split",
    description="Turns one message with lines into one message per line, each with its correlation id, index and "
                "count.",
    inputs=(Port("in"),),
    outputs=(Port("out", "One per line"), Port("empty", "No lines", unused_when=("on_empty", ("error",))),
             Port("error", "Split failed")),
    config=Config, expressions=("lines", "correlation", "keep"), icon="split",
    tags=("splitter", "lines", "eip"), summary="{{lines}}",
)


@dataclass(frozen=True)
class Prepared:
    lines: Expression
    correlation: Expression | None
    keep: Expression | None
    max_parts: int
    on_empty: str


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    return Prepared(compile_field(config["lines"], "lines"),
                    compile_field(config["correlation"], "correlation") if config["correlation"] else None,
                    compile_field(config["keep"], "keep") if config["keep"] else None,
                    config["max_parts"], config["on_empty"])


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    lines = evaluate_field(prepared.lines, message, ctx, "lines")
    if lines is None:
        lines = []
    elif not isinstance(lines, list):  # JSONata gives a single line as itself, not as an array of one
        lines = [lines]
    if len(lines) > prepared.max_parts:
        raise NodeError("too_many_parts", f"lines: {len(lines):,} lines, more than the {prepared.max_parts:,} a "
                        "split makes", field="lines", details={"count": len(lines), "max_parts": prepared.max_parts})
    if not lines:
        if prepared.on_empty == "error":
            raise NodeError("no_lines", "lines: the message has no lines to split", field="lines")
        yield "empty", message
        return
    correlation = _correlation(prepared, message, ctx)
    keep = _keep(prepared, message, ctx)
    for index, line in enumerate(lines):
        yield "out", {**keep, "line": line, "split": {"correlation": correlation, "index": index, "count": len(lines)}}


def _correlation(prepared: Prepared, message: Any, ctx: Context) -> str:
    if prepared.correlation is None:
        return f"{ctx.run_id}/{ctx.node_id}"
    return correlation_id(evaluate_field(prepared.correlation, message, ctx, "correlation"))


def correlation_id(value: Any, field: str = "correlation") -> str:
    """A correlation id as the aggregate keys its groups: a text or a number (1.0 is "1"), at most MAX_CORRELATION
    characters; a business NodeError naming `field` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == "":
        raise NodeError("correlation_invalid", f"{field}: the expression must give a text or a number, not "
                        f"{_kind(value)}", field=field)
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if len(text) > MAX_CORRELATION:
        raise NodeError("correlation_invalid", f"{field}: {len(text)} characters, more than {MAX_CORRELATION}",
                        field=field)
    return text


def _keep(prepared: Prepared, message: Any, ctx: Context) -> dict:
    if prepared.keep is None:
        return {}
    value = evaluate_field(prepared.keep, message, ctx, "keep")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise NodeError("keep_invalid", f"keep: the expression must give an object, not {_kind(value)}", field="keep")
    return value


def _kind(value: Any) -> str:
    return "nothing" if value is None else "an empty text" if value == "" else type(value).__name__
