"""event.schedule: a flow started by the clock, on a cron expression read in a time zone (UTC unless set), with a
fixed input. The runtime's scheduler (runtime/schedules.py) fires it once per due time across all processes."""
from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Any

from croniter import CroniterBadDateError, croniter
from marshmallow import Schema, ValidationError, fields, validate

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit


def _cron(value: str) -> None:
    if not croniter.is_valid(value) or len(value.split()) != 5:
        raise ValidationError("not a cron expression of five fields, e.g. '0 2 * * *' (02:00 daily)")
    try:
        croniter(value, dt.datetime(2000, 1, 1)).get_next(dt.datetime)
    except CroniterBadDateError:  # 30 February: valid fields, no day at all
        raise ValidationError("never falls due: no date matches its day and month") from None


@functools.cache
def zones() -> frozenset[str]:
    """The IANA time zone names this machine knows (its own tz database, else the tzdata package), less the
    ones that mean nothing elsewhere (`localtime` is whatever the server is set to)."""
    return frozenset(zoneinfo.available_timezones()) - {"localtime", "Factory", "posixrules"}


def _zone(value: str) -> None:
    if value not in zones():
        raise ValidationError(f"not an IANA time zone name such as 'Europe/Berlin' or 'America/New_York': "
                              f"{value[:64]!r}")


class Config(Schema):
    """When the flow runs, and with what input."""

    # the pattern lets the inspector catch a wrong field count; croniter checks each field on the server
    cron = fields.String(required=True, validate=[validate.Regexp(r"^\S+( +\S+){4}$"), _cron], metadata={
        "title": "Cron", "description": "minute hour day month weekday, in the time zone below, e.g. 0 2 * * *"})
    timezone = fields.String(load_default="UTC", validate=[validate.Length(max=64), _zone], metadata={
        "title": "Time zone", "description": "IANA name, e.g. Europe/Berlin, America/New_York (default UTC). "
                                             "Daylight saving: a skipped time fires when the clocks jump, a "
                                             "repeated one once; schedules with * in minute or hour follow real time"})
    input = fields.Raw(load_default=None, allow_none=True, metadata={"title": "Input",
                                                                      "description": "The message of each run"})


SPEC = NodeSpec(
    type="event.schedule", version=1, category="event", title="Schedule",
    description="Starts a run at each due time of a cron expression, in a time zone (UTC unless set).",
    inputs=(), outputs=(Port("out", "Tick"),), config=Config, icon="clock", tags=("trigger", "cron"),
    summary="cron {{cron}}",
)


def run(config: dict, message: Any, ctx: Context) -> Emit:
    yield "out", message
