"""Invoice and inventory tables: 810 invoice and 846 inventory inquiry/advice (004010 layout; 005010 keeps it)."""
from __future__ import annotations

from nodes.edi.sets.table import SetTable, extended, loop, many

PARTY = loop("N1", many("N2", "N3"), "N4", many("REF", "PER"), "DMG")

INVOICE = SetTable("810", "004010", "Invoice", "IN", (
    "BIG", *many("NTE"), "CUR", *many("REF", "YNQ", "PER"), PARTY, *many("ITD", "DTM"), "FOB",
    *many("PID", "MEA", "PWK", "PKG"), "L7", *many("BAL"), "INC", *many("PAM"), loop("LM", many("LQ")),
    loop("N9", many("DTM", "MSG")),
    loop("IT1", "CRC", *many("QTY"), "CUR", *many("IT3", "TXI", "CTP", "PAM", "MEA", "PID", "PWK", "PKG"),
         "PO4", *many("ITD", "REF", "YNQ", "PER", "SDQ", "DTM", "CAD", "L7"), "SR", *many("SAC"),
         loop("SLN", many("DTM", "REF", "PID", "SAC", "TC2", "TXI")), PARTY, loop("LM", many("LQ"))),
    "TDS", *many("TXI"), "CAD", *many("AMT", "SAC", "ISS"), "CTT",
))

INVENTORY_ADVICE = SetTable("846", "004010", "Inventory Inquiry/Advice", "IB", (
    "BIA", "CUR", *many("REF", "PER", "MEA", "DTM"), loop("N1", many("N2", "N3"), "N4", many("REF", "PER")),
    loop("LIN", *many("SLN", "PID", "DTM", "REF", "PER", "MEA", "PWK", "PKG", "TD1", "TD5", "TD3", "TD4", "MAN",
                      "CTP", "CUR", "SAC"),
         loop("QTY", many("UIT", "SCH", "DTM", "REF", "LS", "LE")), loop("LDT", many("MAN", "QTY", "DTM")),
         loop("N1", many("N2", "N3"), "N4", many("REF", "PER", "QTY", "DTM"))),
    "CTT", "AMT",
))

TABLES = {
    ("810", "004010"): INVOICE,
    ("810", "005010"): extended(INVOICE, "005010"),
    ("846", "004010"): INVENTORY_ADVICE,
    ("846", "005010"): extended(INVENTORY_ADVICE, "005010"),
}
