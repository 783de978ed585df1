"""EDI trading partners of a workspace (issue 15): the record edi.write envelopes an interchange with (ISA/GS ids
and qualifiers, delimiters, version, usage indicator, 997 expectation), checked by a marshmallow schema whose
errors name the field; and each partner's interchange control-number sequence, one atomic
UPDATE ... RETURNING per number, so that no two processes ever get the same number (on SQLite the UPDATE happens
inside the write lock, runtime/db.py WriteLock). The register of sent interchanges is runtime/edi_register.py;
StepPartners is `ctx.trading_partners` for a running step (nodes.base.TradingPartners)."""
from __future__ import annotations

import re
from typing import Any, Mapping

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from runtime import edi_register
from runtime.models import ControlNumber, TradingPartner, utcnow
from runtime.readthrough import ReadThrough

NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # fullmatch: no trailing newline slips through
MAX_CONTROL_NUMBER = 999_999_999  # ISA13 has nine digits
VERSION = r"^[0-9]{6}[A-Za-z0-9]{0,6}\Z"  # GS08: 004010, 005010, 004010VICS
USAGES = ("P", "T")
SUFFIXES = ("", "\n", "\r\n")
DEFAULT_DELIMITERS = {"element": "*", "segment": "~", "component": ">", "repetition": "^", "suffix": "\n"}
# Records per process: edi.write reads its partner on every message; a save here forgets them at once, a save in
# another process is seen within FRESH_S.
FRESH_S = 2.0
_records = ReadThrough(FRESH_S)
_CN, _TP = ControlNumber.__table__, TradingPartner.__table__


class InvalidPartner(ValueError):
    """A trading partner that cannot be stored: names the field (a dotted path such as `partner.id`)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


class ControlNumbersExhausted(RuntimeError):
    """Every ISA13 of the partner was given out: a number is never repeated, so none is left."""


def _printable(value: str) -> bool:
    return value == value.strip() and all(" " <= c <= "~" for c in value)


class _PrintableValidator(validate.Validator):
    error = "printable ASCII without leading or trailing spaces"

    def __call__(self, value: str) -> str:
        if not _printable(value):
            raise ValidationError(self.error)
        return value


class PartnerIds(Schema):
    """One side's identifiers: ISA qualifier and id (ISA05/06 or ISA07/08), GS application id (GS02 or GS03)."""
    class Meta:
        unknown = RAISE

    qualifier = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9]{2}\Z",
                                                                        error="two letters or digits, e.g. ZZ or 01"))
    id = fields.String(required=True, validate=[validate.Length(1, 15), _PrintableValidator()])
    application_id = fields.String(validate=[validate.Length(2, 15), _PrintableValidator()],
                                   metadata={"description": "GS02/GS03; default: the ISA id"})


class PartnerDelimiters(Schema):
    class Meta:
        unknown = RAISE

    element = fields.String(load_default="*", validate=validate.Length(1, 1))
    segment = fields.String(load_default="~", validate=validate.Length(1, 1))
    component = fields.String(load_default=">", validate=validate.Length(1, 1))
    repetition = fields.String(load_default="^", validate=validate.Length(1, 1),
                               metadata={"description": "ISA11 in 005010 and later"})
    suffix = fields.String(load_default="\n", validate=validate.OneOf(SUFFIXES),
                           metadata={"description": "written after each segment terminator"})

    @validates_schema(pass_original=True)
    def _distinct(self, data: dict, original: Any, **_kwargs) -> None:
        chars = {k: data[k] for k in ("element", "segment", "component", "repetition") if k in data}
        for key, char in chars.items():
            if char.isalnum() or char in (" ", "\x00") or ord(char) > 126:
                raise ValidationError("a delimiter is one ASCII character, neither a letter, a digit, a space nor NUL",
                                      key)
        given = set(original) if isinstance(original, dict) else set()
        seen: dict[str, str] = {}
        for key, char in chars.items():
            if char in seen:  # the one the caller gave is at fault, not the default it collides with
                other = seen[char]
                fault, twin = (other, key) if other in given and key not in given else (key, other)
                raise ValidationError(f"the same character as {twin}", fault)
            seen[char] = key


class PartnerAck(Schema):
    class Meta:
        unknown = RAISE

    expected = fields.Boolean(load_default=True, metadata={"description": "a 997 is due for each interchange sent"})
    window_minutes = fields.Integer(strict=True, load_default=1440, validate=validate.Range(1, 43200),
                                    metadata={"description": "after this long without its 997 an interchange "
                                                             "becomes a dead letter"})


class TradingPartnerIn(Schema):
    """What PUT /api/v1/trading-partners/<name> takes."""
    class Meta:
        unknown = RAISE

    description = fields.String(load_default="", validate=[validate.Length(0, 2000), validate.Predicate(
        "isprintable", error="printable text")])
    partner = fields.Nested(PartnerIds, required=True, metadata={"description": "the partner's identifiers"})
    us = fields.Nested(PartnerIds, required=True, metadata={"description": "ours, as the partner knows us"})
    version = fields.String(load_default="004010", validate=validate.Regexp(VERSION, error="six digits, e.g. 004010"))
    usage = fields.String(load_default="P", validate=validate.OneOf(USAGES))
    delimiters = fields.Nested(PartnerDelimiters, load_default=lambda: dict(DEFAULT_DELIMITERS))
    ack = fields.Nested(PartnerAck, load_default=lambda: {"expected": True, "window_minutes": 1440})
    last_control_number = fields.Integer(strict=True, validate=validate.Range(0, MAX_CONTROL_NUMBER), metadata={
        "description": "raise the sequence (e.g. to continue another system's numbers); it never goes back"})

    @validates_schema
    def _no_delimiter_in_ids(self, data: dict, **_kwargs) -> None:
        chars = {v for k, v in (data.get("delimiters") or {}).items() if k != "suffix"}
        for side in ("partner", "us"):
            for key in ("id", "application_id"):
                value = (data.get(side) or {}).get(key) or ""
                if chars & set(value):
                    raise ValidationError("holds one of the delimiters", f"{side}.{key}")


def _first_error(messages: Any, path: str = "") -> tuple[str, str]:
    """The dotted path and message of the first problem in marshmallow's nested messages."""
    if isinstance(messages, dict):
        key, inner = next(iter(messages.items()))
        sub = path if key == "_schema" else f"{path}.{key}" if path else str(key)
        return _first_error(inner, sub)
    if isinstance(messages, list) and messages:
        return _first_error(messages[0], path)
    return path, str(messages)


def check(name: str, data: Any) -> dict:
    """The record as it is stored, or InvalidPartner naming the first field at fault."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidPartner("name", "a name is 1-100 letters, digits, '_', '.' or '-'")
    if not isinstance(data, dict):
        raise InvalidPartner("", "a trading partner is a JSON object")
    try:
        loaded = TradingPartnerIn().load(data)
    except ValidationError as err:
        field, message = _first_error(err.messages)
        if message == "Unknown field.":
            message = "not a field of a trading partner"
        raise InvalidPartner(field, f"{field}: {message}" if field else message) from None
    for side in ("partner", "us"):
        loaded[side].setdefault("application_id", loaded[side]["id"])
    return loaded


def save(rt, workspace: str, name: str, data: Any) -> dict:
    """Create or replace the partner; its control-number sequence starts at 0 the first time and carries on
    after a delete and a new save under the same name."""
    rec = check(name, data)
    values = dict(description=rec["description"], partner_qualifier=rec["partner"]["qualifier"].upper(),
                  partner_id=rec["partner"]["id"], partner_application=rec["partner"]["application_id"],
                  our_qualifier=rec["us"]["qualifier"].upper(), our_id=rec["us"]["id"],
                  our_application=rec["us"]["application_id"], version=rec["version"], usage=rec["usage"],
                  delimiters=rec["delimiters"], ack_expected=rec["ack"]["expected"],
                  ack_window_s=rec["ack"]["window_minutes"] * 60, updated_at=utcnow())
    floor = rec.get("last_control_number")
    with rt.engine.begin() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        # one statement, so that two saves of a new name at once both succeed (the later one wins)
        conn.execute(dialect.insert(_TP).values(workspace=workspace, name=name, created_at=values["updated_at"],
                                                **values).on_conflict_do_update(
            index_elements=[_TP.c.workspace, _TP.c.name], set_=values))
        conn.execute(dialect.insert(_CN).values(workspace=workspace, partner=name, last=0).on_conflict_do_nothing())
        if floor is not None:  # guarded in the UPDATE itself: a number taken meanwhile is never handed out again
            if conn.execute(update(_CN).where(_CN.c.workspace == workspace, _CN.c.partner == name,
                                              _CN.c.last <= floor).values(last=floor)).rowcount != 1:
                last = conn.execute(select(_CN.c.last).where(_CN.c.workspace == workspace,
                                                             _CN.c.partner == name)).scalar()
                raise InvalidPartner("last_control_number", f"last_control_number: {last} were given out already; "
                                                            "control numbers never go back")
    _records.forget()
    return describe(rt, workspace, name)


def _record(row: TradingPartner) -> dict:
    return {"name": row.name, "description": row.description,
            "partner": {"qualifier": row.partner_qualifier, "id": row.partner_id,
                        "application_id": row.partner_application},
            "us": {"qualifier": row.our_qualifier, "id": row.our_id, "application_id": row.our_application},
            "version": row.version, "usage": row.usage, "delimiters": dict(row.delimiters),
            "ack": {"expected": row.ack_expected, "window_minutes": row.ack_window_s // 60}}


def get(rt, workspace: str, name: str) -> dict:
    """The partner's record for a running step (read through the per-process cache); KeyError when none."""
    found = _records.get((rt.engine.url, rt.settings.database_schema, workspace, name),
                         lambda: _load(rt, workspace, name))
    if found is None:
        raise KeyError(f"no trading partner named {name!r} in workspace {workspace!r}")
    return {k: dict(v) if isinstance(v, dict) else v for k, v in found.items()}  # the kept one is never handed out


def _load(rt, workspace: str, name: str) -> dict | None:
    with rt.read_sessions() as s:
        row = s.get(TradingPartner, (workspace, name))
        return _record(row) if row is not None else None


def describe(rt, workspace: str, name: str) -> dict | None:
    """What the API shows: the record with the last control number given out and its times."""
    rows = list_all(rt, workspace, name)
    return rows[0] if rows else None


def list_all(rt, workspace: str, name: str | None = None) -> list[dict]:
    q = select(TradingPartner, ControlNumber.last).outerjoin(ControlNumber, (
        ControlNumber.workspace == TradingPartner.workspace) & (ControlNumber.partner == TradingPartner.name)).where(
        TradingPartner.workspace == workspace).order_by(TradingPartner.name)
    if name is not None:
        q = q.where(TradingPartner.name == name)
    with rt.read_sessions() as s:
        return [{**_record(row), "last_control_number": last or 0, "created_at": _iso(row.created_at),
                 "updated_at": _iso(row.updated_at)} for row, last in s.execute(q).all()]


def find(rt, workspace: str, qualifier: str, partner_id: str) -> str | None:
    """The name of the partner whose ISA qualifier and id these are (a received interchange's sender)."""
    with rt.read_sessions() as s:
        return s.scalar(select(TradingPartner.name).where(
            TradingPartner.workspace == workspace, TradingPartner.partner_qualifier == qualifier.strip().upper(),
            TradingPartner.partner_id == partner_id.strip()).order_by(TradingPartner.name).limit(1))


def remove(rt, workspace: str, name: str) -> bool:
    """Delete the record; its sequence and sent interchanges stay, so numbers are never given out twice."""
    with rt.engine.begin() as conn:
        removed = bool(conn.execute(delete(TradingPartner).where(TradingPartner.workspace == workspace,
                                                                 TradingPartner.name == name)).rowcount)
    _records.forget()
    return removed


def take_control_number(engine: Engine, workspace: str, partner: str) -> int:
    """The partner's next interchange control number: one UPDATE ... RETURNING in a transaction of its own,
    atomic across processes and threads (PostgreSQL's row lock; SQLite's write lock, taken at BEGIN)."""
    known = exists().where(_TP.c.workspace == workspace, _TP.c.name == partner)
    with engine.begin() as conn:
        number = conn.execute(update(_CN).where(_CN.c.workspace == workspace, _CN.c.partner == partner,
                                                _CN.c.last < MAX_CONTROL_NUMBER, known)
                              .values(last=_CN.c.last + 1).returning(_CN.c.last)).scalar()
        if number is not None:
            return number
        if conn.execute(select(_CN.c.last).where(_CN.c.workspace == workspace, _CN.c.partner == partner,
                                                 known)).first() is not None:
            raise ControlNumbersExhausted(f"trading partner {partner!r} has used every control number "
                                          f"up to {MAX_CONTROL_NUMBER}")
    raise KeyError(f"no trading partner named {partner!r} in workspace {workspace!r}")


class StepPartners:
    """`ctx.trading_partners` of a running step (nodes.base.TradingPartners): the workspace's partners, and
    the run and node that send an interchange, for the dead letter its missing 997 would become."""

    def __init__(self, rt, ctx):
        self._rt, self._ctx = rt, ctx

    def get(self, partner: str) -> Mapping[str, Any]:
        return get(self._rt, self._ctx.workspace, partner)

    def next_control_number(self, partner: str) -> int:
        return take_control_number(self._rt.engine, self._ctx.workspace, partner)

    def sent(self, partner: str, control_number: int, groups: list[dict]) -> None:
        ctx = self._ctx
        edi_register.sent(self._rt, ctx.workspace, partner, control_number, groups, origin={
            "run_id": int(ctx.run_id), "flow_id": ctx.flow_id, "flow_version": ctx.flow_version,
            "node_id": ctx.node_id})

    def acknowledged(self, partner: str, ack: Mapping[str, Any]) -> list[dict]:
        return edi_register.acknowledged(self._rt, self._ctx.workspace, partner, ack)

    def find(self, qualifier: str, partner_id: str) -> str | None:
        return find(self._rt, self._ctx.workspace, qualifier, partner_id)


def _iso(value) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None
