"""Envelopes: an interchange's segments arranged as ISA -> GS groups -> ST transaction sets, with the counts
and control numbers checked (SE01, SE02/ST02, GE01/GE02, IEA01/IEA02).

Each fault is kept on the envelope it belongs to, so a 997 can accept one set and reject its neighbour.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from nodes.edi import syntax
from nodes.edi.errors import EdiError
from nodes.edi.tokens import Delimiters

ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})


@dataclass(eq=False)
class TransactionSet:
    set_id: str
    control_number: str
    implementation: str | None
    position: int  # of its ST in the interchange
    segments: list[list] = field(default_factory=list)  # between ST and SE, both excluded
    errors: list[EdiError] = field(default_factory=list)
    trailer_position: int | None = None  # of its SE; None when the SE is missing


@dataclass(eq=False)
class Group:
    header: dict  # the record's "group"
    position: int  # of its GS
    sets: list[TransactionSet] = field(default_factory=list)
    errors: list[EdiError] = field(default_factory=list)
    declared_sets: str | None = None  # GE01 as written
    interchange: Interchange | None = None
    set_numbers: set[str] = field(default_factory=set, repr=False)  # the ST02s seen, to find a repeated one


@dataclass(eq=False)
class Interchange:
    header: dict  # the record's "interchange"
    delimiters: Delimiters
    groups: list[Group] = field(default_factory=list)
    errors: list[EdiError] = field(default_factory=list)
    warnings: list[EdiError] = field(default_factory=list)
    segment_count: int = 0


def interchange_header(isa: list[str], delimiters: Delimiters) -> dict:
    """The record's "interchange": every ISA field, padding dropped, plus the delimiters it was written with."""
    return {"authorization": [isa[1], isa[2].rstrip()], "security": [isa[3], isa[4].rstrip()],
            "sender_qualifier": isa[5], "sender_id": isa[6].rstrip(),
            "receiver_qualifier": isa[7], "receiver_id": isa[8].rstrip(),
            "date": isa[9], "time": isa[10], "repetition_separator": isa[11], "version": isa[12],
            "control_number": isa[13], "ack_requested": isa[14], "usage": isa[15],
            "component_separator": isa[16], "element_separator": delimiters.element,
            "segment_terminator": delimiters.segment}


GROUP_KEYS = ("functional_id", "sender", "receiver", "date", "time", "control_number", "agency", "version")


def build(segments: list[list], delimiters: Delimiters, problems: list[EdiError]) -> Interchange:
    """Arrange one interchange's segments (segments[0] is its ISA, split raw) into its envelopes."""
    isa = segments[0]
    interchange = Interchange(interchange_header(isa, delimiters), delimiters, segment_count=len(segments))
    control = isa[13] if len(isa) > 13 else ""
    errors = interchange.errors
    errors.extend(isa_problems(isa))
    owners: dict[int, list[EdiError]] = {}  # position -> errors list of the set or group holding it
    group: Group | None = None
    tset: TransactionSet | None = None
    closed = False
    ids = ENVELOPE_IDS
    # only envelope segments take a step of this loop: the segments between two of them are one slice
    marks = [index for index, segment in enumerate(segments) if segment[0] in ids and index]
    marks.append(len(segments))
    previous = 0
    for mark in marks:
        if mark > previous + 1:
            if tset is not None:
                tset.segments.extend(segments[previous + 1:mark])
            else:  # one error for a run of misplaced segments, naming the first: a count bounds the report
                where = "between transaction sets" if group is not None else "outside a functional group"
                run = mark - previous - 1
                if run > 1:
                    where += f" (with the {run - 1} segments after it)"
                (group.errors if group is not None else errors).append(
                    _unexpected(segments[previous + 1], previous + 2, where))
        if mark == len(segments):
            break
        previous, position, segment = mark, mark + 1, segments[mark]
        sid = segment[0]
        if tset is not None:
            if sid == "SE":
                _close_set(tset, segment, position)
                tset = None
                continue
            tset.errors.append(EdiError(
                "se_missing", f"transaction set {tset.control_number} (ST at {tset.position}) has no SE before "
                f"the {sid} at {position}", "ST", tset.position, "SE"))
            tset = None
        owners[position] = group.errors if group is not None else errors
        if sid == "ST":
            if group is None:
                errors.append(_unexpected(segment, position, "outside a functional group (GS ... GE)"))
                continue
            tset = _open_set(segment, position, group, interchange.warnings)
            owners[position] = tset.errors
        elif sid == "GS":
            if group is not None:
                group.errors.append(EdiError("ge_missing", f"functional group {group.header['control_number']} "
                                             f"(GS at {group.position}) has no GE before the GS at {position}",
                                             "GS", group.position, "GE"))
            if closed:
                errors.append(_unexpected(segment, position, "after the IEA"))
            group = open_group(segment, position)
            group.interchange = interchange
            interchange.groups.append(group)
        elif sid == "GE":
            if group is None:
                errors.append(_unexpected(segment, position, "outside a functional group"))
                continue
            _close_group(group, segment, position)
            group = None
        elif sid == "IEA":
            if group is not None:
                group.errors.append(EdiError("ge_missing", f"functional group {group.header['control_number']} "
                                             f"(GS at {group.position}) has no GE before the IEA at {position}",
                                             "GS", group.position, "GE"))
                group = None
            _close_interchange(interchange, segment, position, control)
            closed = True
        else:  # an SE without its ST, or a second ISA
            (group.errors if group is not None else errors).append(
                _unexpected(segment, position, "without the envelope it closes" if sid == "SE" else "misplaced"))
    if tset is not None:
        tset.errors.append(EdiError("se_missing", f"transaction set {tset.control_number} (ST at {tset.position}) "
                                    "has no SE: the interchange ends first", "ST", tset.position, "SE"))
    if group is not None:
        group.errors.append(EdiError("ge_missing", f"functional group {group.header['control_number']} (GS at "
                                     f"{group.position}) has no GE: the interchange ends first", "GS",
                                     group.position, "GE"))
    if not closed:
        errors.append(EdiError("iea_missing", f"interchange {control} has no IEA", "ISA", 1, "IEA"))
    for group in interchange.groups:
        for tset in group.sets:
            if tset.segments:
                tset.errors.extend(syntax.check(tset.segments, tset.position + 1))
    _place(problems, interchange, owners)
    for error in _all_errors(interchange):
        error.interchange = control
    for warning in interchange.warnings:
        warning.interchange = control
    return interchange


ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)  # ISA01..ISA16
PADDED = (2, 4, 6, 8)  # ISA02, ISA04, ISA06, ISA08: space-padded text, accepted shorter
DIGITS = (9, 10, 13, 14)  # date, time, control number, acknowledgment requested


def isa_problems(isa: list[str]) -> list[EdiError]:
    """Fixed widths, digits where numbers go, a usage indicator: what the writer needs to give the same ISA back."""
    errors: list[EdiError] = []
    if len(isa) != 17:
        errors.append(EdiError("isa_invalid", f"the ISA has {len(isa) - 1} elements, not 16", "ISA", 1))
        return errors
    for number, width in enumerate(ISA_WIDTHS, 1):
        value = isa[number]
        name = f"ISA{number:02d}"
        if number in PADDED:
            wrong = len(value) > width or (number in (6, 8) and not value.strip())
        else:
            wrong = len(value) != width or value.isspace() and number != 11
        if not wrong and number in DIGITS:
            wrong = not digits(value)
        if not wrong and number == 15:
            wrong = value not in ("P", "T", "I")
        if wrong:
            errors.append(EdiError("isa_invalid", f"{name} {value!r} is not a valid {width}-character field",
                                   "ISA", 1, name, value=value))
    return errors


def _open_set(segment: list, position: int, group: Group, warnings: list[EdiError]) -> TransactionSet:
    set_id = _text(segment, 1)
    control = _text(segment, 2)
    tset = TransactionSet(set_id, control, _text(segment, 3) or None, position)
    if not (len(set_id) == 3 and digits(set_id)):
        tset.errors.append(EdiError("st_invalid", f"ST01 {set_id!r} is not a transaction set id", "ST", position,
                                    "ST01", value=set_id))
    if not 4 <= len(control) <= 9:
        tset.errors.append(EdiError("st_control_number_invalid", f"ST02 {control!r} is not a 4-9 character "
                                    "control number", "ST", position, "ST02", value=control))
    elif control in group.set_numbers:
        warnings.append(EdiError("st_control_number_duplicate", f"ST02 {control} is used twice in functional "
                                 f"group {group.header['control_number']}", "ST", position, "ST02", value=control))
    group.set_numbers.add(control)
    group.sets.append(tset)
    return tset


def _close_set(tset: TransactionSet, segment: list, position: int) -> None:
    tset.trailer_position = position
    count = _text(segment, 1)
    actual = len(tset.segments) + 2
    if count != str(actual) and not (digits(count) and int(count) == actual):
        tset.errors.append(EdiError("se_count_mismatch", f"SE01 says {count or 'nothing'} but transaction set "
                                    f"{tset.control_number} has {actual} segments (ST to SE)", "SE", position,
                                    "SE01", value=count))
    control = _text(segment, 2)
    if not _same_number(control, tset.control_number):
        tset.errors.append(EdiError("se_control_number_mismatch", f"SE02 {control!r} does not match ST02 "
                                    f"{tset.control_number!r}", "SE", position, "SE02", value=control))


def open_group(segment: list, position: int) -> Group:
    """A group from its GS, with the faults of its fields (the writer checks what it writes with it too)."""
    values = [_text(segment, number) for number in range(1, 9)]
    group = Group(dict(zip(GROUP_KEYS, values)), position)
    if len(segment) != 9:
        number = min(len(segment), 9)
        group.errors.append(EdiError("gs_invalid", f"the GS has {len(segment) - 1} elements, not 8", "GS",
                                     position, f"GS{number:02d}"))
    for number, value in enumerate(values, 1):
        if not value:
            group.errors.append(EdiError("gs_invalid", f"GS{number:02d} is empty", "GS", position,
                                         f"GS{number:02d}"))
    date, time, control = values[3], values[4], values[5]
    if date and not (digits(date) and len(date) in (6, 8)):
        group.errors.append(EdiError("gs_invalid", f"GS04 {date!r} is not a date", "GS", position, "GS04",
                                     value=date))
    if time and not (digits(time) and 4 <= len(time) <= 8):
        group.errors.append(EdiError("gs_invalid", f"GS05 {time!r} is not a time", "GS", position, "GS05",
                                     value=time))
    if control and not (digits(control) and len(control) <= 9):
        group.errors.append(EdiError("gs_invalid", f"GS06 {control!r} is not a control number of up to 9 "
                                     "digits", "GS", position, "GS06", value=control))
    return group


def _close_group(group: Group, segment: list, position: int) -> None:
    count = _text(segment, 1)
    group.declared_sets = count
    if not _same_number(count, str(len(group.sets))):
        group.errors.append(EdiError("ge_count_mismatch", f"GE01 says {count or 'nothing'} but functional group "
                                     f"{group.header['control_number']} has {len(group.sets)} transaction sets",
                                     "GE", position, "GE01", value=count))
    control = _text(segment, 2)
    if not _same_number(control, group.header["control_number"]):
        group.errors.append(EdiError("ge_control_number_mismatch", f"GE02 {control!r} does not match GS06 "
                                     f"{group.header['control_number']!r}", "GE", position, "GE02", value=control))


def _close_interchange(interchange: Interchange, segment: list, position: int, control: str) -> None:
    count = _text(segment, 1)
    if not _same_number(count, str(len(interchange.groups))):
        interchange.errors.append(EdiError(
            "iea_count_mismatch", f"IEA01 says {count or 'nothing'} but interchange {control} has "
            f"{len(interchange.groups)} functional groups", "IEA", position, "IEA01", value=count))
    received = _text(segment, 2)
    if not _same_number(received, control):
        interchange.errors.append(EdiError("iea_control_number_mismatch", f"IEA02 {received!r} does not match "
                                           f"ISA13 {control!r}", "IEA", position, "IEA02", value=received))


def _same_number(written: str, expected: str) -> bool:
    """Control numbers and counts compare as numbers when both are digits (IEA02 3438 is ISA13 000003438)."""
    if written == expected:
        return True
    return digits(written) and digits(expected) and int(written) == int(expected)


def digits(value: str) -> bool:
    """Whether value is ASCII digits only (str.isdigit also takes "²", which int() refuses)."""
    return value.isascii() and value.isdigit()


def _text(segment: list, number: int) -> str:
    if number >= len(segment):
        return ""
    value = segment[number]
    return value if isinstance(value, str) else ""


def _unexpected(segment: list, position: int, where: str) -> EdiError:
    return EdiError("segment_unexpected", f"the {segment[0]} at {position} is {where}", segment[0], position)


def _place(problems: list[EdiError], interchange: Interchange, owners: dict[int, list[EdiError]]) -> None:
    """Tokenizer faults go to the set (or group, or interchange) that holds their segment."""
    if not problems:
        return
    spans = [(tset.position, tset.trailer_position or tset.position + len(tset.segments), tset.errors)
             for group in interchange.groups for tset in group.sets]
    for problem in problems:
        target = owners.get(problem.position)
        if target is None:
            target = next((errors for first, last, errors in spans if first <= problem.position <= last),
                          interchange.errors)
        target.append(problem)


def _all_errors(interchange: Interchange):
    yield from interchange.errors
    for group in interchange.groups:
        yield from group.errors
        for tset in group.sets:
            yield from tset.errors
