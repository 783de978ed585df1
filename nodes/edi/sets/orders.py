"""Order tables: 850 purchase order and 855 purchase order acknowledgment (004010 layout; 005010 keeps it).
Loops the distribution guides use are loops; the standard's one-segment loops (CTP, PID, SAC, SCH) are
repeated segments, and the summary CTT loop is CTT and AMT at the top level, which the body reads easier."""
from __future__ import annotations

from nodes.edi.sets.table import SetTable, extended, loop, many

PARTY = loop("N1", many("N2", "N3"), "N4", many("NX2", "REF", "PER", "SI"), "FOB",
             many("TD1", "TD5", "TD3", "TD4", "PKG"))
NOTE = loop("N9", many("DTM", "MEA", "MSG"))
AMOUNT = loop("AMT", many("REF", "DTM", "PCT"))
LINE_PARTY = loop("N1", many("N2", "N3"), "N4", many("QTY", "NX2", "REF", "PER", "SI", "DTM"), "FOB",
                  many("SCH", "TD1", "TD5", "TD3", "TD4", "PKG"))

PURCHASE_ORDER = SetTable("850", "004010", "Purchase Order", "PO", (
    "BEG", "CUR", *many("REF", "PER", "TAX", "FOB", "CTP", "PAM", "CSH", "TC2", "SAC", "ITD", "DIS"), "INC",
    *many("DTM", "LDT", "LIN", "SI", "PID", "MEA", "PWK", "PKG", "TD1", "TD5", "TD3", "TD4", "MAN", "PCT",
          "CTB", "TXI"),
    AMOUNT, NOTE, PARTY, loop("LM", many("LQ")), loop("SPI", many("REF", "DTM", "MSG")),
    loop("PO1", many("LIN", "SI"), "CUR", "CN1", *many("PO3", "CTP", "PAM", "MEA", "PID", "PWK", "PO4", "REF",
                                                       "PER", "SAC"),
         "IT8", *many("CSH", "ITD", "DIS"), "INC",
         *many("TAX", "FOB", "SDQ", "IT3", "DTM", "TC2", "TD1", "TD5", "TD3", "TD4", "PCT", "MAN", "MSG",
               "SPI", "TXI", "CTB"),
         loop("QTY", many("SI")), many("SCH", "PKG"), "LS", loop("LDT", many("QTY", "MSG", "REF")), NOTE,
         LINE_PARTY, "LE",
         loop("SLN", many("MSG", "SI", "PID", "PO3", "TC2", "ADV", "DTM", "CTP", "PAM", "PO4", "TAX", "SAC",
                          "QTY", "N9", "N1", "N2", "N3", "N4", "NX2", "REF", "PER")),
         AMOUNT, loop("LM", many("LQ"))),
    "CTT", "AMT",
))

ORDER_ACKNOWLEDGMENT = SetTable("855", "004010", "Purchase Order Acknowledgment", "PR", (
    "BAK", "CUR", *many("REF", "PER", "TAX", "FOB", "CTP", "PAM"), "CSH",
    *many("SAC", "ITD", "DIS", "DTM", "LDT", "LIN", "SI", "PID", "MEA", "PWK", "PKG", "TD1", "TD5", "TD3", "TD4",
          "MAN", "TXI", "CTB"),
    NOTE, PARTY,
    loop("PO1", many("LIN", "SI"), "CUR", *many("PO3", "CTP", "PAM", "MEA", "PID", "PWK", "PO4", "REF",
                                                "PER", "SAC"),
         "IT8", *many("ITD", "DIS", "TAX", "FOB", "SDQ", "DTM", "TD1", "TD5", "TD3", "TD4", "MAN", "TXI",
                      "CTB", "QTY"),
         NOTE, many("ACK", "SCH"), LINE_PARTY,
         loop("SLN", many("MSG", "SI", "PID", "PO3", "ACK", "DTM", "CTP", "PAM", "PO4", "TAX", "SAC", "QTY",
                          "N9", "N1", "N2", "N3", "N4", "NX2", "REF", "PER"))),
    "CTT", "AMT",
))

TABLES = {
    ("850", "004010"): PURCHASE_ORDER,
    ("850", "005010"): extended(PURCHASE_ORDER, "005010"),
    ("855", "004010"): ORDER_ACKNOWLEDGMENT,
    ("855", "005010"): extended(ORDER_ACKNOWLEDGMENT, "005010"),
}
