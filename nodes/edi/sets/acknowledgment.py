"""The 997 functional acknowledgment table. 005010 adds CTX (segment context) to the AK3 loop."""
from __future__ import annotations

from nodes.edi.sets.table import SetTable, extended, loop, many

FUNCTIONAL_ACKNOWLEDGMENT = SetTable("997", "004010", "Functional Acknowledgment", "FA", (
    "AK1", loop("AK2", loop("AK3", many("AK4")), "AK5"), "AK9",
))

TABLES = {
    ("997", "004010"): FUNCTIONAL_ACKNOWLEDGMENT,
    ("997", "005010"): extended(FUNCTIONAL_ACKNOWLEDGMENT, "005010", {"AK3_loop/AK3": many("CTX")}),
}
