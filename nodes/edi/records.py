"""JSON records: one per transaction set, carrying its interchange and group headers (issue 15's data contract).

The body is nodes.edi.structure's (to_body/from_body); this module owns the envelope keys, so that
read -> write -> read gives the same records.
"""
from __future__ import annotations

from typing import Any

from nodes.edi import structure
from nodes.edi.envelope import Group, Interchange, TransactionSet
from nodes.edi.reader import Reading, accepted, paused_gc


def record(interchange: Interchange, group: Group, tset: TransactionSet) -> dict[str, Any]:
    """The JSON record of one transaction set."""
    return {"interchange": dict(interchange.header, authorization=list(interchange.header["authorization"]),
                                security=list(interchange.header["security"])),
            "group": dict(group.header), "set": tset.set_id, "control_number": tset.control_number,
            "implementation": tset.implementation,
            "body": structure.to_body(tset.set_id, group.header["version"], tset.segments)}


def records(reading: Reading, accepted_only: bool = True) -> list[dict[str, Any]]:
    """The records of a reading, in file order: by default only the sets accepted (no fault in the set, its
    group or its interchange)."""
    with paused_gc():
        return [record(interchange, group, tset) for interchange, group, tset in reading.sets()
                if not accepted_only or accepted(interchange, group, tset)]


def segments(item: dict[str, Any]) -> list[list]:
    """The segments between ST and SE that a record's body stands for."""
    group = item.get("group") or {}
    return structure.from_body(str(item.get("set", "")), str(group.get("version", "")), item.get("body") or {})
