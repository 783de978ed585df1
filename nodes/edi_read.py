"""edi.read: an X12 interchange (a webhook's text body) -> one message per transaction set, and a 997 per group.

Accepted sets go on `out` as JSON records; each received group gets its functional acknowledgement on `ack`
(accepted, accepted with errors or rejected, naming the faulty segment and element), ready for edi.write. What
cannot be accepted goes on `error`, naming the segment and its position. A received 997 is matched to the
interchange we sent, through the trading-partner register, and passes on `out` with what it acknowledged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port, Reference
from nodes import url_template
from nodes.base import Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field
from nodes.edi import reader
from nodes.edi import records as recorded
from nodes.edi.acknowledgement import functional_ack
from nodes.edi.envelope import Group, Interchange, TransactionSet
from nodes.edi.errors import EdiError
from nodes.expression import Expression

ACKS = ("997", "999")  # acknowledgements are matched, never acknowledged themselves
MAX_ERRORS = 20  # faults listed in one error message's details


class Config(Schema):
    """Where the text is, who sent it, and whether to acknowledge."""

    text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20_000), metadata={
        "title": "Text", "format": "jsonata",
        "description": "JSONata giving the X12 text; empty: the message itself when it is text, else its `body` "
                       "(a webhook's non-JSON post) or `x12` (edi.write's output)"})
    partner = fields.String(load_default="", validate=[validate.Length(max=200), url_template.validate_field],
                            metadata={
        "title": "Trading partner", "format": "template",
        "description": "The sender's trading-partner name ({{param}} or {{$.path}}); empty: the partner whose ISA "
                       "qualifier and id sent the interchange"})
    acknowledge = fields.Boolean(truthy={True}, falsy={False}, load_default=True, metadata={
        "title": "Send 997s", "description": "A 997 functional acknowledgement per received group on `ack`"})


SPEC = NodeSpec(
    type="edi.read", version=1, category="edi", title="EDI read (X12)",
    description="Reads an X12 interchange: one message per transaction set, a 997 per group, faults naming the "
                "segment and its position.",
    inputs=(Port("in"),),
    outputs=(Port("out", "Transaction sets"), Port("ack", "997 to send", unused_when=("acknowledge", (False,))),
             Port("error", "Rejected")),
    config=Config, expressions=("text",), references={"partner": Reference("template")}, icon="file-text",
    tags=("edi", "x12", "partner"), summary="X12[ from {{partner}}]",
)


@dataclass(frozen=True)
class Prepared:
    text: Expression | None
    partner: url_template.Template | None
    acknowledge: bool


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    return Prepared(compile_field(config["text"], "text") if config.get("text") else None,
                    url_template.parse(config["partner"]) if config.get("partner") else None, config["acknowledge"])


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    reading = reader.read(_text(prepared, message, ctx))
    for warning in reading.warnings:
        ctx.log(f"{warning.code}: {warning.message}")
    if not reading.interchanges:
        first = reading.errors[0] if reading.errors else EdiError("isa_missing", "no interchange", "ISA", 1)
        raise _node_error(first, reading.errors)
    named = _named(prepared, message, ctx)
    for interchange in reading.interchanges:
        partner = named if named is not None else _sender(interchange, ctx)
        if interchange.errors:
            yield "error", _failure(interchange.errors[0], interchange.errors, ctx, interchange)
        for group in interchange.groups:
            yield from _group(prepared, interchange, group, partner, ctx)
    for error in reading.errors:  # after the last interchange that could be read
        yield "error", _failure(error, [error], ctx)


def _group(prepared: Prepared, interchange: Interchange, group: Group, partner: str | None, ctx: Context) -> Emit:
    acks = group.header.get("functional_id") == "FA"
    for tset in group.sets:
        if not reader.accepted(interchange, group, tset):
            if tset.errors:
                yield "error", _failure(tset.errors[0], tset.errors, ctx, interchange, group, tset)
            continue
        record = {**recorded.record(interchange, group, tset), "partner": partner}
        if tset.set_id in ACKS:
            try:
                record = {**record, "acknowledges": _match(record, partner, ctx)}
            except ValueError as err:  # the register could not read it as an acknowledgement
                unread = EdiError("ack_unreadable", f"the {tset.set_id} cannot be matched: {err}", "ST",
                                  tset.position, interchange=interchange.header.get("control_number"))
                yield "error", _failure(unread, [unread], ctx, interchange, group, tset)
                continue
        yield "out", record
    if group.errors:
        yield "error", _failure(group.errors[0], group.errors, ctx, interchange, group)
    if prepared.acknowledge and not acks:
        yield "ack", {**functional_ack(group), "partner": partner}


def _match(record: dict, partner: str | None, ctx: Context) -> list:
    """The groups we sent that this 997 acknowledges, with their new status ([] when the sender is unknown)."""
    if partner is None:
        ctx.log("a 997 from a sender that is no trading partner of this workspace: not matched")
        return []
    try:
        return list(ctx.trading_partners.acknowledged(partner, record))
    except KeyError:
        raise NodeError("unknown_partner", f"no trading partner named {partner!r} in this workspace",
                        field="partner") from None


def _text(prepared: Prepared, message: Any, ctx: Context) -> str | bytes:
    value = evaluate_field(prepared.text, message, ctx, "text") if prepared.text is not None else message
    if prepared.text is None and isinstance(value, dict):
        value = value.get("x12") if isinstance(value.get("x12"), str) else value.get("body")
    if not isinstance(value, (str, bytes)):
        raise NodeError("not_text", "there is no X12 text to read: the message is neither text nor an object with "
                        "the text in `body` or `x12`", field="text")
    return value


def _named(prepared: Prepared, message: Any, ctx: Context) -> str | None:
    if prepared.partner is None:
        return None
    try:
        return prepared.partner.render(ctx.params, message)
    except url_template.TemplateError as err:
        raise NodeError("template_error", f"partner: {err.message}", field="partner") from None


def _sender(interchange: Interchange, ctx: Context) -> str | None:
    """The trading partner whose ISA qualifier and id sent the interchange, when the workspace has one."""
    find = getattr(ctx.trading_partners, "find", None)
    header = interchange.header
    return find(header["sender_qualifier"], header["sender_id"]) if find is not None else None


def _node_error(error: EdiError, errors: list[EdiError]) -> NodeError:
    return NodeError(error.code, error.message, field="text", details={
        "segment": error.segment, "position": error.position, "element": error.element,
        "interchange": error.interchange, "errors": [e.to_dict() for e in errors[:MAX_ERRORS]]})


def _failure(error: EdiError, errors: list[EdiError], ctx: Context, interchange: Interchange | None = None,
             group: Group | None = None, tset: TransactionSet | None = None) -> dict:
    """An `error` message as the runtime writes one for a failed step: the error, the node, and what failed."""
    failed: dict[str, Any] = {}
    if interchange is not None:
        failed["interchange"] = dict(interchange.header)
    if group is not None:
        failed["group"] = dict(group.header)
    if tset is not None:
        failed.update(set=tset.set_id, control_number=tset.control_number)
    return {"error": _node_error(error, errors).to_dict(), "node": ctx.node_id, "input": failed}
