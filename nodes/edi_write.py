"""edi.write: JSON records -> one X12 interchange for a trading partner, enveloped from the partner's record.

The interchange control number (ISA13, and GS06 of the first group) comes from the partner's sequence, which never
repeats a number across processes; the interchange is registered as sent so that the partner's 997 can be
matched to it (and its absence noticed). Sending it is the next node's job (connector.http).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port, Reference
from nodes import url_template
from nodes.base import Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field
from nodes.edi import records as bodies
from nodes.edi import writer
from nodes.edi.errors import EdiError
from nodes.edi.structure import BodyError
from nodes.expression import Expression

MAX_RECORDS = 10_000  # transaction sets in one interchange
CONTENT_TYPE = "application/edi-x12"
# GS01 of the sets distributors exchange; another set names its own in the record's group.functional_id
FUNCTIONAL_IDS = {"810": "IN", "812": "CD", "820": "RA", "824": "AG", "830": "PS", "832": "SC", "846": "IB",
                  "850": "PO", "852": "PD", "855": "PR", "856": "SH", "860": "PC", "861": "RC", "865": "CA",
                  "940": "OW", "943": "AR", "944": "RE", "945": "SW", "947": "AW", "997": "FA", "999": "FA",
                  "204": "SM", "210": "IM", "214": "QM", "990": "GF", "180": "AN", "864": "TX"}


class Config(Schema):
    """Which partner, and where the records are."""

    partner = fields.String(required=True, validate=[validate.Length(min=1, max=200), url_template.validate_field],
                            metadata={
        "title": "Trading partner", "format": "template", "examples": ["acme", "{{partner}}"],
        "description": "The trading partner's name; {{param}} from the flow params, {{$.path}} from the message. "
                       "Its record gives the ids, qualifiers, delimiters, version and usage indicator"})
    records = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20_000), metadata={
        "title": "Records", "format": "jsonata",
        "description": "JSONata giving one record or a list of them ({\"set\": \"855\", \"body\": {...}}); "
                       "empty: the message"})


SPEC = NodeSpec(
    type="edi.write", version=1, category="edi", title="EDI write (X12)",
    description="Renders JSON records as one X12 interchange for a trading partner, with its envelopes, counts "
                "and the next control number of the partner's sequence.",
    inputs=(Port("in"),), outputs=(Port("out", "Interchange"), Port("error", "Not written")), config=Config,
    expressions=("records",), references={"partner": Reference("template")}, icon="file-text",
    tags=("edi", "x12", "partner"), summary="X12 to {{partner}}",
)


@dataclass(frozen=True)
class Prepared:
    partner: url_template.Template
    records: Expression | None


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    return Prepared(url_template.parse(config["partner"]),
                    compile_field(config["records"], "records") if config.get("records") else None)


def now() -> datetime:
    """The time written into ISA09/10 and GS04/05 (tests replace it)."""
    return datetime.now(timezone.utc)


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    try:
        name = prepared.partner.render(ctx.params, message)
    except url_template.TemplateError as err:
        raise NodeError("template_error", f"partner: {err.message}", field="partner") from None
    items = _records(evaluate_field(prepared.records, message, ctx, "records") if prepared.records else message)
    try:
        partner = ctx.trading_partners.get(name)
    except KeyError:
        raise NodeError("unknown_partner", f"no trading partner named {name!r} in this workspace",
                        field="partner") from None
    groups = _grouped(items)
    numbers = [ctx.trading_partners.next_control_number(name) for _ in groups]
    stamp = now()
    interchange = _interchange(partner, numbers[0])
    written, registered = [], []
    for (functional_id, members), number in zip(groups, numbers):
        group = _group(partner, functional_id, number, stamp)
        sets = []
        for index, (position, item) in enumerate(members, 1):
            control = f"{index:04d}"
            written.append({"interchange": interchange, "group": group, "set": item["set"], "control_number": control,
                            "implementation": item.get("implementation") or None, "body": item.get("body") or {},
                            "_position": position})
            sets.append({"set": item["set"], "control_number": control})
        registered.append({"functional_id": functional_id, "control_number": number, "sets": sets})
    text = _write(written, partner, stamp)
    ctx.trading_partners.sent(name, numbers[0], registered)
    yield "out", {"x12": text, "partner": name, "control_number": numbers[0], "sets": len(written),
                  "groups": registered, "content_type": CONTENT_TYPE}


def _records(value: Any) -> list[tuple[int, dict]]:
    """The records with their index in the input, each checked for a set id and a body."""
    items = value if isinstance(value, list) else [value]
    if not items or len(items) > MAX_RECORDS:
        raise NodeError("records_invalid", f"give 1 to {MAX_RECORDS} records, not {len(items)}", field="records")
    checked = []
    for index, item in enumerate(items):
        where = f"records[{index}]" if isinstance(value, list) else "record"
        if not isinstance(item, dict):
            raise NodeError("records_invalid", f"{where} is not an object with set and body", field="records")
        set_id = item.get("set")
        if not isinstance(set_id, str) or not (len(set_id) == 3 and set_id.isdigit()):
            raise NodeError("records_invalid", f"{where}.set must be a transaction set id such as \"855\", not "
                            f"{set_id!r}", field="records", details={"path": f"{where}.set"})
        if not isinstance(item.get("body", {}), dict):
            raise NodeError("records_invalid", f"{where}.body must be an object", field="records",
                            details={"path": f"{where}.body"})
        checked.append((index, _plain(item)))
    return checked


def _plain(value: Any) -> Any:
    """Plain dicts and lists all the way down: a mapping's output holds JSONata's own list and object types."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _grouped(items: list[tuple[int, dict]]) -> list[tuple[str, list[tuple[int, dict]]]]:
    """Records by functional group (GS01), in the order each group first appears."""
    groups: dict[str, list[tuple[int, dict]]] = {}
    for index, item in items:
        own = (item.get("group") or {}).get("functional_id") if isinstance(item.get("group"), dict) else None
        functional_id = FUNCTIONAL_IDS.get(item["set"]) or own
        if not isinstance(functional_id, str) or not functional_id:
            raise NodeError("unknown_set", f"set {item['set']} has no known functional group: give it in "
                            "group.functional_id", field="records", details={"path": f"records[{index}].set"})
        groups.setdefault(functional_id, []).append((index, item))
    return list(groups.items())


def _interchange(partner: dict, number: int) -> dict:
    version = str(partner.get("version") or "004010")
    delimiters = partner.get("delimiters") or {}
    isa12 = version[:5]
    return {"authorization": ["00", ""], "security": ["00", ""],
            "sender_qualifier": partner["us"]["qualifier"], "sender_id": partner["us"]["id"],
            "receiver_qualifier": partner["partner"]["qualifier"], "receiver_id": partner["partner"]["id"],
            "date": None, "time": None, "repetition_separator": delimiters.get("repetition", "^")
            if isa12 >= "00402" else "U", "version": isa12, "control_number": f"{number:09d}",
            "ack_requested": "0", "usage": partner.get("usage") or "P",
            "component_separator": delimiters.get("component", ">"),
            "element_separator": delimiters.get("element", "*"), "segment_terminator": delimiters.get("segment", "~")}


def _group(partner: dict, functional_id: str, number: int, stamp: datetime) -> dict:
    return {"functional_id": functional_id, "sender": partner["us"].get("application_id") or partner["us"]["id"],
            "receiver": partner["partner"].get("application_id") or partner["partner"]["id"],
            "date": stamp.strftime("%Y%m%d"), "time": stamp.strftime("%H%M"), "control_number": str(number),
            "agency": "X", "version": str(partner.get("version") or "004010")}


def _write(items: list[dict], partner: dict, stamp: datetime) -> str:
    suffix = (partner.get("delimiters") or {}).get("suffix", "\n")
    try:
        return writer.write([{k: v for k, v in item.items() if k != "_position"} for item in items],
                            line_break=suffix, now=stamp)
    except BodyError as err:
        at = _failing(items, err)
        raise NodeError("body_invalid", f"{at}.body: {err}", field="records",
                        details={"path": f"{at}.body.{err.path}" if err.path else f"{at}.body"}) from None
    except EdiError as err:
        raise NodeError(err.code, err.message, field="records",
                        details={"segment": err.segment, "position": err.position, "element": err.element}) from None


def _failing(items: list[dict], err: BodyError) -> str:
    """Which record a body error came from: the first whose body does not write on its own."""
    for item in items:
        try:
            bodies.segments(item)
        except BodyError:
            return f"records[{item['_position']}]"
    return "records"

