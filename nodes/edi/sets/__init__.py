"""Transaction-set tables by (set, version): 850 855 856 810 940 945 846 997 in 004010 and 005010."""
from __future__ import annotations

from nodes.edi.sets import acknowledgment, invoice, orders, shipping
from nodes.edi.sets.table import SetTable

TABLES: dict[tuple[str, str], SetTable] = {
    **orders.TABLES,
    **shipping.TABLES,
    **invoice.TABLES,
    **acknowledgment.TABLES,
}


def table_version(version: str) -> str | None:
    """The table version a group version (GS08, e.g. 004010VICS, 004030, 003010, 005010X230) reads with:
    releases before 005 read with 004010, 005 and later with 005010; None when it is not a version."""
    digits = (version or "").strip()[:6]
    if len(digits) < 3 or not (digits[:3].isascii() and digits[:3].isdigit()):  # "²" is a digit to isdigit
        return None
    return "004010" if int(digits[:3]) < 5 else "005010"


def table_for(set_id: str, version: str) -> SetTable | None:
    """The table for a set in a group version, or None (the body stays generic)."""
    resolved = table_version(version)
    return TABLES.get((set_id, resolved)) if resolved else None
