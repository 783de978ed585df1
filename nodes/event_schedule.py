"""event.schedule: a flow started by the clock, on a cron expression (UTC), with a fixed input.
The runtime's scheduler (runtime/schedules.py) fires it once per due time across all processes."""
from __future__ import annotations

from typing import Any

from croniter import croniter
from marshmallow import Schema, ValidationError, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit


def _cron(value: str) -> None:
    if not croniter.is_valid(value) or len(value.split()) != 5:
        raise ValidationError("not a cron expression of five fields, e.g. '0 2 * * *' (02:00 UTC daily)")


class Config(Schema):
    """When the flow runs, and with what input."""

    # the pattern lets the inspector catch a wrong field count; croniter checks each field on the server
    cron = fields.String(required=True, validate=[validate.Regexp(r"^\S+( +\S+){4}$"), _cron], metadata={
        "title": "Cron (UTC)", "description": "minute hour day month weekday, e.g. 0 2 * * *"})
    input = fields.Raw(load_default=None, allow_none=True, metadata={"title": "Input",
                                                                      "description": "The message of each run"})


SPEC = NodeSpec(
    type="event.schedule", version=1, category="event", title="Schedule",
    description="Starts a run at each due time of a cron expression (UTC).",
    inputs=(), outputs=(Port("out", "Tick"),), config=Config, icon="clock", tags=("trigger", "cron"),
    summary="cron {{cron}}",
)


def run(config: dict, message: Any, ctx: Context) -> Emit:
    yield "out", message
