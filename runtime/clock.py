"""The time the runtime's schedule decisions go by: real UTC, or, when CROSSDOCK_CLOCK_FILE is set (a test and
operations facility, never set in production), the ISO 8601 time that file holds, read afresh at each call so
that every process sharing the file agrees on it and a test moves all of them at once."""
from __future__ import annotations

import datetime as dt
import os

from runtime.models import utcnow

MAX_BYTES = 200  # an ISO time is about 32; a file this long is not one


class ClockError(ValueError):
    """The clock file is set but does not hold a time."""


def now(settings) -> dt.datetime:
    """Naive UTC, as every stored timestamp: the clock file's time when one is set, else the real time."""
    return read(settings.clock_file) if settings.clock_file else utcnow()


def read(path: str) -> dt.datetime:
    """The time in the file (`2030-01-01T00:01:30Z`; no zone: UTC) as naive UTC."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(MAX_BYTES + 1).strip()
    except OSError as err:
        raise ClockError(f"clock file {path}: {err.strerror or err}") from err
    if len(text) > MAX_BYTES:
        raise ClockError(f"clock file {path}: not an ISO 8601 time (over {MAX_BYTES} bytes)")
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise ClockError(f"clock file {path}: not an ISO 8601 time: {text[:40]!r}") from err
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return when


def write(path: str, when: dt.datetime) -> None:
    """Set the clock file (tests): written aside and renamed, so a reader never sees half a time."""
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(when.isoformat() + "Z")
    os.replace(tmp, path)
