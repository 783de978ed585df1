"""transform.conform: check a message against a canonical record (flows.canonical); conforming messages
go on unchanged, the rest to `rejected` with the failing field paths and their business class."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from flows import canonical
from flows.spec import NodeSpec, Port, Reference
from nodes.base import Context, Emit


class Config(Schema):
    """The canonical record messages must conform to."""

    record = fields.String(required=True, validate=validate.OneOf(list(canonical.RECORDS)),
                           metadata={"title": "Record", "description": "Canonical record type"})


SPEC = NodeSpec(
    type="transform.conform", version=1, category="transform", title="Conform",
    description="Checks each message against a canonical record; rejects go out with the failing field paths.",
    inputs=(Port("in"),), outputs=(Port("out", "Conforms"), Port("rejected", "Rejected")), config=Config,
    icon="check-square", tags=("validate", "canonical"), references={"record": Reference("record")},
    summary="conforms to {{record}}",
)


def run(config: dict, message: Any, ctx: Context) -> Emit:
    problems = [] if _conforms(config["record"], message) else canonical.check(config["record"], message)
    if not problems:
        yield "out", message
        return
    yield "rejected", rejection(message, config["record"], problems)


# One schema per record type for the process: canonical.check builds the record's schema (and its nested ones) on
# every call, which was two thirds of a check's CPU. A message that does not conform is checked again by
# canonical.check, which says why.
_schemas: dict[tuple[str, type], Schema] = {}


def _conforms(record: str, message: Any) -> bool:
    if not isinstance(message, dict):
        return False
    kind = canonical.RECORDS[record]
    schema = _schemas.get((record, kind))
    if schema is None:
        schema = _schemas[(record, kind)] = kind()
    try:
        schema.load(message)
    except ValidationError:
        return False
    return True


def rejection(message: Any, record: str, problems: list[dict]) -> dict:
    """The message with `rejection` beside its fields (so later nodes still find the source ids):
    the first problem's business class, and every problem."""
    base = message if isinstance(message, dict) else {"message": message}
    return {**base, "rejection": {"record": record, "class": problems[0]["class"], "field": problems[0]["field"],
                                  "problems": problems}}
