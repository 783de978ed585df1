"""Writing X12: JSON records -> interchange text, with the envelopes, counts and trailers computed.

Consecutive records with the same interchange header share an ISA, and with the same group header a GS,
so the records a reading gives come back as the interchanges they were read from. A value that holds a
delimiter cannot be written and raises an EdiError naming the segment, its position and the element.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from nodes.edi import records as record_bodies
from nodes.edi.envelope import digits, isa_problems, open_group
from nodes.edi.errors import EdiError
from nodes.edi.reader import paused_gc
from nodes.edi.tokens import LINE_BREAKS, Delimiters

ISA_WIDTHS = {2: 10, 4: 10, 6: 15, 8: 15}  # ISA02, ISA04, ISA06, ISA08 are padded with spaces


def write(items: Iterable[Mapping[str, Any]], line_break: str = "\n", now: datetime | None = None) -> str:
    """The X12 text of records, one interchange per run of records sharing an interchange header.
    line_break follows each terminator unless the terminator is itself a line break ("" for none)."""
    with paused_gc():
        return "".join(_interchange_text(interchange, groups, line_break, now)
                       for interchange, groups in _envelopes(items))


def _envelopes(items: Iterable[Mapping[str, Any]]) -> list[tuple[Mapping, list[tuple[Mapping, list]]]]:
    """Records -> [(interchange header, [(group header, [records])])]. Control numbers must be unique in their
    envelope, so a repeated ST02 starts a new group and a repeated GS06 a new interchange (two identical
    interchanges read from one file come back as two)."""
    envelopes: list[tuple[Mapping, list[tuple[Mapping, list]]]] = []
    set_numbers: set = set()  # ST02s in the current group
    group_numbers: set = set()  # GS06s in the current interchange
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("interchange"), Mapping) \
                or not isinstance(item.get("group"), Mapping):
            raise EdiError("record_invalid", "a record needs an 'interchange' and a 'group' object", "ISA", 1)
        interchange, group = item["interchange"], item["group"]
        set_number, group_number = str(item.get("control_number")), str(group.get("control_number"))
        if not envelopes or envelopes[-1][0] != interchange:
            envelopes.append((interchange, []))
            group_numbers = set()
        groups = envelopes[-1][1]
        if not groups or groups[-1][0] != group or set_number in set_numbers:
            if group_number in group_numbers:
                envelopes.append((interchange, []))
                groups, group_numbers = envelopes[-1][1], set()
            groups.append((group, []))
            group_numbers.add(group_number)
            set_numbers = set()
        groups[-1][1].append(item)
        set_numbers.add(set_number)
    return envelopes


def delimiters_of(interchange: Mapping[str, Any]) -> Delimiters:
    """The delimiters a record's interchange header asks for (the X12 defaults where it says nothing)."""
    element = str(interchange.get("element_separator") or "*")
    component = str(interchange.get("component_separator") or ">")
    segment = str(interchange.get("segment_terminator") or "~")
    repetition = str(interchange.get("repetition_separator") or "")
    version = str(interchange.get("version") or "00401")
    active = repetition if version >= "00402" and len(repetition) == 1 and not repetition.isalnum() \
        and not repetition.isspace() else None
    singles = [element, component] + ([segment] if segment not in LINE_BREAKS else [])
    if any(len(value) != 1 or value.isalnum() for value in singles) or len({element, component, segment}) < 3 \
            or active in (element, component, segment):
        raise EdiError("delimiters_invalid", f"delimiters {element!r} {component!r} {segment!r} {repetition!r} "
                       "must be distinct single non-alphanumeric characters", "ISA", 1, "ISA16")
    return Delimiters(element, component, segment, active)


def _interchange_text(interchange: Mapping, groups: list, line_break: str, now: datetime | None) -> str:
    delimiters = delimiters_of(interchange)
    terminator = delimiters.segment + ("" if delimiters.line_mode else line_break)
    moment = now or datetime.now(timezone.utc)
    control = _control(interchange.get("control_number"), 9)
    isa = _isa(interchange, delimiters, control, moment)
    lines = [delimiters.element.join(isa)]
    render = _Renderer(delimiters)
    for group, items in groups:
        gs = ["GS"] + [_field(group.get(key), key) for key in
                       ("functional_id", "sender", "receiver", "date", "time")]
        if not gs[4]:
            gs[4] = moment.strftime("%Y%m%d")
        if not gs[5]:
            gs[5] = moment.strftime("%H%M")
        group_control = _control(group.get("control_number"), 0)
        gs += [group_control, _field(group.get("agency"), "agency") or "X", _field(group.get("version"), "version")]
        for problem in open_group(gs, len(lines) + 1).errors:
            problem.code = "record_invalid"  # the reader would refuse this GS: so does the writer
            raise problem
        lines.append(render.line(gs, len(lines) + 1))
        for item in items:
            set_id, set_control = _field(item.get("set"), "set"), _control(item.get("control_number"), 4)
            st = ["ST", set_id, set_control]
            if not (len(set_id) == 3 and digits(set_id)) or not 4 <= len(set_control) <= 9:
                raise EdiError("record_invalid", f"ST {set_id!r} {set_control!r}: a set id is 3 digits, its control "
                               "number 4 to 9 characters", "ST", len(lines) + 1,
                               "ST01" if not (len(set_id) == 3 and digits(set_id)) else "ST02")
            if item.get("implementation"):
                st.append(_field(item["implementation"], "implementation"))
            first = len(lines)
            lines.append(render.line(st, len(lines) + 1))
            for segment in record_bodies.segments(item):
                lines.append(render.line(segment, len(lines) + 1))
            lines.append(render.line(["SE", str(len(lines) - first + 1), set_control], len(lines) + 1))
        lines.append(render.line(["GE", str(len(items)), group_control], len(lines) + 1))
    lines.append(render.line(["IEA", str(len(groups)), control], len(lines) + 1))
    return terminator.join(lines) + terminator


def _isa(interchange: Mapping, delimiters: Delimiters, control: str, moment: datetime) -> list[str]:
    authorization = list(interchange.get("authorization") or ["00", ""]) + ["", ""]
    security = list(interchange.get("security") or ["00", ""]) + ["", ""]
    version = _field(interchange.get("version"), "version") or "00401"
    values = ["ISA", authorization[0] or "00", authorization[1], security[0] or "00", security[1],
              interchange.get("sender_qualifier") or "ZZ", interchange.get("sender_id"),
              interchange.get("receiver_qualifier") or "ZZ", interchange.get("receiver_id"),
              interchange.get("date") or moment.strftime("%y%m%d"), interchange.get("time") or moment.strftime("%H%M"),
              interchange.get("repetition_separator") or ("^" if version >= "00402" else "U"), version, control,
              interchange.get("ack_requested") or "0", interchange.get("usage") or "P", delimiters.component]
    isa = [_field(value, f"ISA{number:02d}") for number, value in enumerate(values)]
    for number, width in ISA_WIDTHS.items():
        isa[number] = isa[number].ljust(width)
    for number, value in enumerate(isa[:16]):
        if delimiters.element in value or delimiters.segment in value or \
                (number != 11 and delimiters.component in value):
            raise EdiError("delimiter_in_data", f"ISA{number:02d} {value!r} holds a delimiter", "ISA", 1,
                           f"ISA{number:02d}", value=value)
    for problem in isa_problems(isa):
        problem.code = "record_invalid"  # the reader would refuse this ISA: so does the writer
        raise problem
    return isa


def _control(value: Any, width: int) -> str:
    """A control number as written: an int (from a sequence) is zero-padded to width, text is kept."""
    if isinstance(value, bool) or value is None or value == "":
        raise EdiError("record_invalid", "a control number is missing", "ISA" if width == 9 else "ST", 1)
    text = str(value)
    if width == 9 and digits(text):
        return text.zfill(9)
    if isinstance(value, int):
        return text.zfill(width)
    return text


def _field(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise EdiError("record_invalid", f"{name} must be text, not {type(value).__name__}", "ISA", 1)


class _Renderer:
    """One segment (a list of elements) -> its text, refusing values that hold a delimiter."""

    def __init__(self, delimiters: Delimiters) -> None:
        self.delimiters = delimiters
        # a line break in a value would end a line-ended segment, and reads as a missing terminator otherwise
        others = [delimiters.component, "\r", "\n"] + ([] if delimiters.line_mode else [delimiters.segment])
        if delimiters.repetition:
            others.append(delimiters.repetition)
        self.others = tuple(others)
        self.forbidden = re.compile("[" + re.escape("".join(others)) + "]").search

    def line(self, segment: list, position: int) -> str:
        """The fast path joins text elements once and checks the result; anything else goes element by element."""
        last = segment[-1]
        if last == "" or last is None or last == []:
            while len(segment) > 1 and (segment[-1] == "" or segment[-1] is None or segment[-1] == []):
                segment = segment[:-1]
        element = self.delimiters.element
        try:
            text = element.join(segment)
        except TypeError:
            text = None
        if text is not None and text.count(element) == len(segment) - 1 and not self.forbidden(text):
            return text
        return element.join(self._value(value, segment, number, position) for number, value in enumerate(segment))

    def _value(self, value: Any, segment: list, number: int, position: int) -> str:
        delimiters = self.delimiters
        sid = str(segment[0])
        name = f"{sid}{number:02d}"
        if isinstance(value, Mapping) and isinstance(value.get("repeat"), list):
            if delimiters.repetition is None:
                raise EdiError("delimiter_in_data", f"{name} repeats, but the interchange has no repetition "
                               "separator (ISA11, from version 00402)", sid, position, name)
            return delimiters.repetition.join(self._components(item, sid, name, position)
                                              for item in value["repeat"])
        return self._components(value, sid, name, position)

    def _components(self, value: Any, sid: str, name: str, position: int) -> str:
        if isinstance(value, list):
            return self.delimiters.component.join(self._text(item, sid, name, position, True) for item in value)
        return self._text(value, sid, name, position, False)

    def _text(self, value: Any, sid: str, name: str, position: int, component: bool) -> str:
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise EdiError("record_invalid", f"{name} must be text, a list of components or {{'repeat': [...]}}",
                           sid, position, name)
        text = str(value)
        for delimiter in (self.delimiters.element,) + self.others:
            if delimiter in text:
                raise EdiError("delimiter_in_data", f"{name} {text[:40]!r} holds the delimiter {delimiter!r}",
                               sid, position, name, value=text)
        return text
