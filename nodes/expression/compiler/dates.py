"""Date and time functions of compiled expressions: one clock per evaluation ($now, $millis) and a
$fromMillis that analyses each picture string once instead of on every call."""
from __future__ import annotations

import datetime
import functools
import re
import time

from nodes.expression.compiler.values import DELEGATE as _DELEGATE
from nodes.expression.compiler.values import UNDEF, from_reference, to_reference
from nodes.expression.jsonata_internals import analyse_picture, datetime_from_millis, format_component


class Clock:
    """$now() and $millis(): one instant per evaluation, as JSONata specifies."""
    __slots__ = ("millis",)

    def __init__(self):
        self.millis = None

    def read(self) -> int:
        if self.millis is None:
            self.millis = int(time.time() * 1000)
        return self.millis


def now_iso(millis: int) -> str:
    dt = datetime.datetime.fromtimestamp(millis / 1000, datetime.timezone.utc)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_clock_call(name, args):
    """`$now(picture?, timezone?)` or `$millis()`, reading the evaluation's clock."""
    def clock(x, env):
        state = env.state
        if state.clock is None:
            state.clock = Clock()
        millis = state.clock.read()
        if name == "millis":
            return millis
        values = [a(x, env) for a in args]
        if not values:
            return now_iso(millis)
        picture = to_reference(values[0])
        zone = to_reference(values[1]) if len(values) > 1 else None
        return from_reference(datetime_from_millis(millis, picture, zone))
    return clock


@functools.lru_cache(maxsize=256)
def _picture(picture: str):
    return analyse_picture(picture)


def from_millis(args, ctx):
    """$fromMillis(number, picture?, timezone?) for plain arguments; the reference's formatting."""
    n = len(args)
    millis = args[0] if n else UNDEF
    if millis is UNDEF and n in (1, 2, 3):
        return UNDEF
    if type(millis) not in (int, float) or millis != millis or n > 3:
        return _DELEGATE
    picture = args[1] if n > 1 else UNDEF
    zone = args[2] if n > 2 else UNDEF
    if picture is UNDEF or zone is not UNDEF or type(picture) is not str:
        return _DELEGATE
    try:
        spec = _picture(picture)
        date = datetime.datetime.fromtimestamp(int(millis) / 1000.0, datetime.timezone.utc)
        fields = _numeric_fields(picture)
        if fields is not None:
            return "".join(f if w == 0 else f"{getattr(date, f):0{w}d}" for f, w in fields)
        return "".join(part.value if part.type == "literal" else
                       format_component(date, part) for part in spec)
    except Exception:
        return _DELEGATE  # the reference raises its own error for this


# zero-padded decimal markers, the pictures of nearly every mapping ([Y0001]-[M01]-[D01]T[H01]:...):
# the reference formats these digit by digit, Python's format() gives the same text
_NUMERIC = {("Y", "0001"): ("year", 4), ("M", "01"): ("month", 2), ("D", "01"): ("day", 2),
            ("H", "01"): ("hour", 2), ("m", "01"): ("minute", 2), ("s", "01"): ("second", 2)}


@functools.lru_cache(maxsize=256)
def _numeric_fields(picture: str):
    """[(literal text, 0) or (datetime attribute, width)] when every marker is a zero-padded number, else None."""
    out = []
    for part in _picture(picture):
        if part.type == "literal":
            out.append((part.value, 0))
            continue
        field = _NUMERIC.get((part.component, part.presentation1))
        if field is None or part.presentation2 is not None or part.ordinal or part.width is not None \
                or part.names is not None:
            return None
        out.append(field)
    return out


@functools.lru_cache(maxsize=256)
def _numeric_reader(picture: str):
    """A regex reading exactly what a zero-padded numeric picture writes, and the datetime field of each
    group; None unless the picture has a year, a month and a day and no field twice."""
    fields = _numeric_fields(picture)
    if fields is None:
        return None
    names = [f for f, w in fields if w]
    if len(set(names)) != len(names) or not {"year", "month", "day"} <= set(names):
        return None
    regex = "".join(re.escape(f) if w == 0 else f"([0-9]{{{w}}})" for f, w in fields)
    return re.compile(regex), names


def to_millis(args, ctx):
    """$toMillis(timestamp, picture) for a zero-padded numeric picture and a timestamp written exactly in
    it (every field at its width): the UTC instant, as the reference reads it. Anything else: the
    reference (which analyses the picture again on every call, some 100 us)."""
    if len(args) != 2 or type(args[1]) is not str:
        return _DELEGATE
    s = args[0]
    if s is UNDEF:
        return UNDEF
    reader = _numeric_reader(args[1]) if type(s) is str else None
    if reader is None:
        return _DELEGATE
    regex, names = reader
    m = regex.fullmatch(s)
    if m is None:
        return _DELEGATE
    parts = dict(zip(names, map(int, m.groups())))
    try:
        dt = datetime.datetime(tzinfo=datetime.timezone.utc, **parts)
    except ValueError:
        return _DELEGATE  # out of range: the reference decides
    return int(dt.timestamp() * 1000)


__all__ = ["Clock", "build_clock_call", "from_millis", "now_iso", "to_millis"]
