"""Shipping tables: 856 ship notice (one HL loop, nested by HL01/HL02 into shipment -> order -> [tare ->
pack ->] item), 940 warehouse shipping order and 945 warehouse shipping advice (004010 layout; 005010 keeps it)."""
from __future__ import annotations

from nodes.edi.sets.table import SetTable, extended, loop, many

PARTY = loop("N1", many("N2", "N3"), "N4", many("REF", "PER"), "FOB")
WAREHOUSE_PARTY = loop("N1", many("N2", "N3"), "N4", many("G61", "N9"))

SHIP_NOTICE = SetTable("856", "004010", "Ship Notice/Manifest", "SH", (
    "BSN", *many("DTM"),
    loop("HL", "LIN", "SN1", *many("SLN"), "PRF", "PO4",
         *many("PID", "MEA", "PWK", "PKG", "TD1", "TD5", "TD3", "TD4"), "TSD", *many("REF", "PER", "LH1",
                                                                                        "CLD", "MAN", "DTM"),
         "FOB", "PAL", PARTY, *many("SDQ"), "ETD", "CUR", *many("SAC", "GF", "YNQ"), loop("LM", many("LQ")),
         hierarchy=True),
    "CTT",
))

LINE = loop("W01", *many("G69", "N9", "W20", "G62", "NTE", "QTY", "AMT"))
WAREHOUSE_SHIPPING_ORDER = SetTable("940", "004010", "Warehouse Shipping Order", "OW", (
    "W05", WAREHOUSE_PARTY, *many("N9", "G62", "NTE"), "W66", loop("LM", many("LQ")),
    loop("LX", *many("MAN", "N9"), LINE), "W76",
))

SHIPPED_LINE = loop("W12", *many("G69", "N9", "W20", "MAN", "QTY", "AMT"))
WAREHOUSE_SHIPPING_ADVICE = SetTable("945", "004010", "Warehouse Shipping Advice", "SW", (
    "W06", WAREHOUSE_PARTY, *many("N9", "G62"), "W27", *many("W10", "MAN"),
    loop("LX", *many("MAN", "PAL", "N9"), SHIPPED_LINE), "W03",
))

TABLES = {
    ("856", "004010"): SHIP_NOTICE,
    ("856", "005010"): extended(SHIP_NOTICE, "005010"),
    ("940", "004010"): WAREHOUSE_SHIPPING_ORDER,
    ("940", "005010"): extended(WAREHOUSE_SHIPPING_ORDER, "005010"),
    ("945", "004010"): WAREHOUSE_SHIPPING_ADVICE,
    ("945", "005010"): extended(WAREHOUSE_SHIPPING_ADVICE, "005010"),
}
