"""Element syntax of common segments: how many elements each may hold, and the product-ID pairs that must be
filled together (X12 "P" syntax notes), the same in 003xxx to 005010.

It catches what the envelope cannot: two segments run together when a terminator is missing (a REF with a
fifth element) and an ID qualifier without its ID (PO1 "CB**"). Segments not listed are not checked.
"""
from __future__ import annotations

from nodes.edi.errors import EdiError
from nodes.edi.tokens import MAX_FAULTS

MAX_ELEMENTS = {
    "ACK": 29, "AK1": 3, "AK2": 3, "AK3": 4, "AK4": 4, "AK5": 6, "AK9": 9, "AMT": 3, "BEG": 12, "BIG": 10,
    "BSN": 7, "CTP": 11, "CTT": 7, "CUR": 21, "DTM": 6, "HL": 4, "IT1": 25, "ITD": 15, "LIN": 31, "LX": 1,
    "MAN": 6, "N1": 6, "N2": 2, "N3": 2, "N4": 7, "NTE": 2, "PER": 9, "PID": 9, "PO1": 25, "QTY": 4, "REF": 4,
    "SAC": 16, "SCH": 12, "SN1": 8, "TD1": 10, "TD5": 15, "TDS": 4,
}
# qualifier/ID pairs: from this element number on, (n, n + 1) are both present or both absent
PAIRS_FROM = {"PO1": 6, "IT1": 6, "LIN": 4}


def check(segments: list[list], first_position: int) -> list[EdiError]:
    """The syntax faults of a set's segments; first_position is the position of segments[0]."""
    limits, pairs = MAX_ELEMENTS, PAIRS_FROM
    found: list[EdiError] = []
    for index in [index for index, segment in enumerate(segments)
                  if segment[0] in pairs or len(segment) - 1 > limits.get(segment[0], 999)]:
        if len(found) >= MAX_FAULTS:
            break
        segment = segments[index]
        sid, position, size = segment[0], first_position + index, len(segment)
        limit = limits[sid]
        if size - 1 > limit:
            name = f"{sid}{limit + 1:02d}"
            found.append(EdiError("too_many_elements", f"the {sid} at {position} has {size - 1} elements; "
                                  f"it holds at most {limit} (a segment terminator may be missing)", sid, position,
                                  name, value=_text(segment[limit + 1])))
            continue
        for first in range(pairs.get(sid, size), size, 2):
            second = first + 1
            if (segment[first] != "") != (second < size and segment[second] != ""):
                missing = second if segment[first] != "" else first
                present = first if missing == second else second
                found.append(EdiError("paired_element_missing", f"{sid}{present:02d} and {sid}{missing:02d} go "
                                      f"together, but {sid}{missing:02d} is empty at {position}", sid, position,
                                      f"{sid}{missing:02d}"))
    return found


def _text(value) -> str:
    return value if isinstance(value, str) else ""
