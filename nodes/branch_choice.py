"""branch.choice: the content-based router. Ordered rules, each naming an output port; the first rule
whose JSONata is true wins, else the message goes to `otherwise` (or is dropped when configured)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit, PrepareEnv, compile_field, evaluate_field
from nodes.expression import Expression

RESERVED_PORTS = ("otherwise", "error")


class Rule(Schema):
    """One route: messages for which `when` is true go out on `port`."""

    port = fields.String(required=True, validate=[validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$"),
                                                  validate.Length(max=64), validate.NoneOf(RESERVED_PORTS)],
                         metadata={"title": "Port", "description": "Output port name, e.g. big"})
    when = fields.String(required=True, validate=validate.Length(min=1), metadata={"title": "When", "format": "jsonata",
                                                  "description": "JSONata condition, e.g. total > 1000"})


class Config(Schema):
    """Ordered rules; the first match wins."""

    rules = fields.List(fields.Nested(Rule), required=True, validate=validate.Length(min=1),
                        metadata={"title": "Rules"})
    # JSON true/false only: marshmallow would also take "yes"/"on", which the inspector's JSON Schema rejects
    drop_unmatched = fields.Boolean(truthy={True}, falsy={False}, load_default=False, metadata={
        "title": "Drop unmatched", "description": "Drop (and count) messages no rule matches instead of "
        "sending them to otherwise"})

    @validates_schema
    def unique_ports(self, data: dict, **kwargs: Any) -> None:
        seen: set[str] = set()
        errors: dict[int, dict] = {}
        for i, rule in enumerate(data.get("rules") or []):
            if rule["port"] in seen:
                errors[i] = {"port": [f"port '{rule['port']}' is already used by an earlier rule"]}
            seen.add(rule["port"])
        if errors:
            raise ValidationError({"rules": errors})


SPEC = NodeSpec(
    type="branch.choice", version=1, category="branch", title="Choice",
    description="Routes each message to the port of the first rule it matches, else to otherwise.",
    inputs=(Port("in"),),
    outputs=(Port("otherwise", "No rule matched", unused_when=("drop_unmatched", (True,))),
             Port("error", "A rule failed")),
    config=Config, expressions=("rules[].when",), dynamic_outputs="rules[].port", icon="split",
    tags=("router",),
    summary="{{rules#}} rules, first match wins",
)


@dataclass(frozen=True)
class Prepared:
    rules: tuple[tuple[str, Expression, str], ...]  # (port, condition, config field)
    drop_unmatched: bool


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    rules = tuple((rule["port"], compile_field(rule["when"], f"rules[{i}].when"), f"rules[{i}].when")
                  for i, rule in enumerate(config["rules"]))
    return Prepared(rules, config["drop_unmatched"])


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    for port, condition, field in prepared.rules:
        if truthy(evaluate_field(condition, message, ctx, field)):
            yield port, message
            return
    if not prepared.drop_unmatched:
        yield "otherwise", message


def truthy(value: Any) -> bool:
    """JSONata's boolean cast ($boolean): an array is true if any member is, an empty object is false,
    functions and nothing are false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value != ""
    if isinstance(value, list):
        return any(truthy(v) for v in value)
    if isinstance(value, dict):
        return len(value) > 0
    return False  # None, or a function (jsonata-python returns library objects for those)
