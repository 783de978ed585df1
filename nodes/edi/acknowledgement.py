"""The 997 functional acknowledgement of one received group: AK1, AK2..AK5 per set, AK9, as a JSON record.

Faults found while reading map onto the X12 codes: a segment with a bad element is an AK3 naming the segment
id and its position in the set, with an AK4 naming the element; counts and control numbers that disagree
are AK5 (set) and AK9 (group) reasons. AK5/AK9 say A (accepted) or R (rejected); AK9 says P when some sets
of the group were accepted and others not.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from nodes.edi import structure
from nodes.edi.envelope import Group, TransactionSet, digits
from nodes.edi.errors import EdiError

# our code -> (AK304 segment syntax error, AK403 element error, AK502 set reason); None: not at that level
SET_CODES: dict[str, tuple[str | None, str | None, str]] = {
    "se_count_mismatch": ("8", "7", "4"),  # AK5 4: number of included segments does not match actual count
    "se_control_number_mismatch": ("8", "7", "3"),  # AK5 3: control number in header and trailer differ
    "se_missing": (None, None, "2"),  # AK5 2: transaction set trailer missing
    "st_invalid": ("8", "7", "6"),  # AK5 6: missing or invalid transaction set identifier
    "st_control_number_invalid": ("8", "7", "7"),  # AK5 7: missing or invalid transaction set control number
    "segment_id_invalid": ("1", None, "5"),  # AK3 1: unrecognized segment id; AK5 5: segments in error
    "element_line_break": ("8", "6", "5"),  # AK4 6: invalid character in data element
    "too_many_elements": ("8", "3", "5"),  # AK4 3: too many data elements
    "paired_element_missing": ("8", "2", "5"),  # AK4 2: conditional required data element missing
    "segment_unknown": ("2", None, "5"),  # AK3 2: unexpected segment
}
GROUP_CODES = {"ge_missing": "3", "ge_control_number_mismatch": "4", "ge_count_mismatch": "5"}  # AK905
ELEMENT_REFERENCES = {"SE01": "96", "SE02": "329", "ST01": "143", "ST02": "329"}  # AK402


def functional_ack(group: Group, now: datetime | None = None) -> dict[str, Any]:
    """The 997 record acknowledging a received group. Its envelopes answer the received ones (sender and
    receiver swapped); the control numbers are placeholders for edi.write to take from the partner sequence."""
    moment = now or datetime.now(timezone.utc)
    received = group.header
    version = received.get("version") or "004010"
    segments: list[list] = [_trim(["AK1", received.get("functional_id", ""), received.get("control_number", ""),
                                   version if _since_5010(version) else ""])]
    accepted = 0
    group_rejected = bool(group.errors) or bool(group.interchange and group.interchange.errors)
    for tset in group.sets:  # a rejected group takes its sets with it: the reader emits none of them
        segments.extend(_set_response(tset, version, group_rejected))
        if segments[-1][1] in ("A", "E"):
            accepted += 1
    reasons = [GROUP_CODES[error.code] for error in group.errors if error.code in GROUP_CODES][:5]
    if group_rejected or not group.sets or accepted == 0:
        status = "R"
    elif accepted < len(group.sets):
        status = "P"
    else:
        status = "A"
    declared = group.declared_sets if digits(group.declared_sets or "") else str(len(group.sets))
    segments.append(["AK9", status, str(int(declared)), str(len(group.sets)), str(accepted)] + reasons)
    theirs = dict(group.interchange.header) if group.interchange else {}
    interchange = dict(theirs, sender_qualifier=theirs.get("receiver_qualifier", "ZZ"),
                       sender_id=theirs.get("receiver_id", ""), receiver_qualifier=theirs.get("sender_qualifier", "ZZ"),
                       receiver_id=theirs.get("sender_id", ""), date=moment.strftime("%y%m%d"),
                       time=moment.strftime("%H%M"), control_number="000000001", ack_requested="0",
                       authorization=["00", ""], security=["00", ""])
    return {"interchange": interchange,
            "group": {"functional_id": "FA", "sender": received.get("receiver") or interchange["sender_id"],
                      "receiver": received.get("sender") or interchange["receiver_id"],
                      "date": moment.strftime("%Y%m%d"), "time": moment.strftime("%H%M"), "control_number": "1",
                      "agency": "X", "version": version},
            "set": "997", "control_number": "0001", "implementation": None,
            "body": structure.to_body("997", version, segments)}


def _set_response(tset: TransactionSet, version: str, group_rejected: bool) -> list[list]:
    """AK2, an AK3 (+ AK4) per faulty segment, AK5 for one received set."""
    lines: list[list] = [_trim(["AK2", tset.set_id, tset.control_number,
                                (tset.implementation or "") if _since_5010(version) else ""])]
    reasons: list[str] = []
    for error in tset.errors:
        ak3, ak4, ak5 = SET_CODES.get(error.code, ("8", "7", "5"))
        if ak5 not in reasons:
            reasons.append(ak5)
        if ak3 is None or error.position is None:
            continue
        lines.append(["AK3", error.segment or "", str(error.position - tset.position + 1), "", ak3])
        if ak4 is not None and error.element:
            lines.append(_trim(["AK4", _element_position(error), ELEMENT_REFERENCES.get(error.element, ""), ak4,
                                _copy(error.value)]))
    lines.append(["AK5", "R" if tset.errors or group_rejected else "A"] + reasons[:5])
    return lines


def _since_5010(version: str) -> bool:
    return digits(version[:6]) and version[:6] >= "005010"


def _element_position(error: EdiError) -> str:
    number = (error.element or "")[len(error.segment or ""):]
    return str(int(number)) if digits(number) else "1"


def _copy(value: Any) -> str:
    """AK404, the bad data as received, at most 99 characters. Only letters, digits, spaces and dots are
    kept: the 997 may be written with other delimiters than the received interchange's."""
    if not isinstance(value, str):
        return ""
    return "".join(char for char in value if char.isalnum() or char in " .")[:99].strip()


def _trim(segment: list) -> list:
    while len(segment) > 1 and segment[-1] == "":
        segment.pop()
    return segment
