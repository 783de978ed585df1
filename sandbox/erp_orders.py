"""The ERP's sales-order rules: units of measure, reservations and backorders, the credit check, and posting
shipments, invoices and credit memos, all inside the caller's transaction.
"""
from __future__ import annotations

import math

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from sandbox import clock, rest, store
from sandbox.rest import Problem
from sandbox.seed import LOCATION

OPEN_STATUSES = ("Open", "Released", "Hold")


def from_header_shape(data: dict) -> dict:
    """The flat-file import shape ({"SO_HEADER", "SHIP_TO", "LINES"}) in the ERP's own field names."""
    header, ship_to = data.get("SO_HEADER"), data.get("SHIP_TO") or {}
    if not isinstance(header, dict) or not isinstance(ship_to, dict) or not isinstance(data.get("LINES"), list):
        raise Problem(422, "invalid_field", "SO_HEADER and SHIP_TO must be objects and LINES a list.", "SO_HEADER")
    lines = [{"lineNo": l.get("LINE_NO"), "itemNo": l.get("ITEM"), "quantity": l.get("QTY"),
              "unitOfMeasureCode": l.get("UOM"), "unitPrice": l.get("UNIT_PRICE"),
              "lineDiscountPercent": l.get("DISC_PCT"), "lineDiscountAmount": l.get("DISC_AMT"),
              "sourceLineNo": l.get("SRC_LINE")}
             if isinstance(l, dict) else l for l in data["LINES"]]
    return {"externalDocumentNo": header.get("EXT_REF"), "customerNo": header.get("CUST_NO"),
            "orderDate": header.get("ORDER_DATE"), "requestedDeliveryDate": header.get("REQ_DATE"),
            "currencyCode": header.get("CURRENCY"), "shipmentMethodCode": header.get("SHIP_METHOD"),
            "shipTo": {"name": ship_to.get("NAME"), "address": ship_to.get("ADDR1"), "address2": ship_to.get("ADDR2"),
                       "city": ship_to.get("CITY"), "county": ship_to.get("REGION"), "postCode": ship_to.get("ZIP"),
                       "countryRegionCode": ship_to.get("COUNTRY")},
            "lines": lines}


def parse_date(value, name: str) -> str | None:
    """A date as YYYY-MM-DD; accepts YYYYMMDD and full ISO timestamps too."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        digits = value[:10].replace("-", "")
        if len(digits) == 8 and digits.isdigit() and (len(value) == 8 or value[4:5] == "-"):
            return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    raise Problem(422, "invalid_field", f"'{name}' must be a date (YYYY-MM-DD).", name)


def missing_item(item_no: str) -> str:
    return f"The Item does not exist. Identification fields and values: No.='{item_no}'"


_ITEM = select(store.erp_items).where(store.erp_items.c.no == bindparam("no"))  # this and the others: built once


def item_row(conn: Connection, item_no: str, field_name: str = "itemNo"):
    row = conn.execute(_ITEM, {"no": item_no}).mappings().first()
    if row is None:
        raise Problem(422, "item_not_found", missing_item(item_no), field_name)
    return row


def qty_per(item, uom: str, field_name: str = "unitOfMeasureCode") -> int:
    factor = item["uoms"].get(uom)
    if factor is None:
        raise Problem(422, "uom_not_found",
                      f"The Unit of Measure '{uom}' is not set up for item {item['no']} "
                      f"(valid: {', '.join(item['uoms'])}).", field_name)
    return factor


_STOCK = store.erp_item_stock
# built once: an order release reads and moves stock per line, and building a statement cost more than running it
_STOCK_ROW = select(_STOCK).where(_STOCK.c.item_no == bindparam("item"), _STOCK.c.location_code == bindparam("location"))
_MOVE_STOCK = update(_STOCK).where(
    _STOCK.c.item_no == bindparam("item"), _STOCK.c.location_code == bindparam("location")).values(
    inventory=_STOCK.c.inventory + bindparam("add_inventory"), reserved=_STOCK.c.reserved + bindparam("add_reserved"))


def stock_row(conn: Connection, item_no: str, location: str = LOCATION):
    row = conn.execute(_STOCK_ROW, {"item": item_no, "location": location}).mappings().first()
    if row is None:
        conn.execute(_STOCK.insert().values(item_no=item_no, location_code=location, inventory=0, reserved=0))
        return {"item_no": item_no, "location_code": location, "inventory": 0, "reserved": 0}
    return row


def change_stock(conn: Connection, item_no: str, location: str, inventory: int = 0, reserved: int = 0) -> None:
    """Add to a location's inventory and reservations; a location without a row starts from zero."""
    moved = conn.execute(_MOVE_STOCK, {"item": item_no, "location": location, "add_inventory": inventory,
                                       "add_reserved": reserved}).rowcount
    if not moved:
        conn.execute(_STOCK.insert().values(item_no=item_no, location_code=location, inventory=inventory,
                                            reserved=reserved))


def post_ledger(conn: Connection, item_no: str, location: str, entry_type: str, quantity: int, document_no: str):
    change_stock(conn, item_no, location, inventory=quantity)
    conn.execute(store.erp_item_ledger.insert().values(
        item_no=item_no, location_code=location, entry_type=entry_type, quantity=quantity, document_no=document_no,
        posted_at=clock.stamp(conn, "erp")))


def build_lines(conn: Connection, data: dict) -> list[dict]:
    lines = []
    for index, raw in enumerate(rest.items(data, "lines")):
        where = f"lines[{index}]"
        item = item_row(conn, rest.text(raw, "itemNo", at=where), where + ".itemNo")
        uom = (rest.text(raw, "unitOfMeasureCode", required=False, at=where) or item["base_uom"]).upper()
        factor = qty_per(item, uom, where + ".unitOfMeasureCode")
        quantity = rest.integer(raw, "quantity", minimum=1, at=where)
        price = rest.number(raw, "unitPrice", required=False, at=where)
        price = round(item["unit_price"] * factor, 2) if price is None else price
        percent, amount, line_amount = _discount(raw, quantity, price, where)
        lines.append({
            "lineNo": rest.integer(raw, "lineNo", required=False, minimum=1, at=where) or (index + 1) * 10000,
            "sourceLineNo": raw.get("sourceLineNo"), "itemNo": item["no"], "description": item["description"],
            "quantity": quantity, "unitOfMeasureCode": uom, "qtyPerUnitOfMeasure": factor, "unitPrice": price,
            "lineDiscountPercent": percent, "lineDiscountAmount": amount, "lineAmount": line_amount,
            "quantityReserved": 0, "quantityBackordered": 0, "quantityShipped": 0, "quantityInvoiced": 0})
    if len({l["lineNo"] for l in lines}) != len(lines):
        raise Problem(422, "duplicate_line", "Line numbers must be unique.", "lines")
    return lines


def _discount(raw: dict, quantity: int, price: float, where: str) -> tuple[float, float, float]:
    """(percent, amount, line amount) as Business Central keeps them: the line discount amount is the whole
    line's discount in currency and, when sent, wins over the percentage, which is then derived from it."""
    percent = rest.number(raw, "lineDiscountPercent", required=False, default=0.0, at=where)
    if percent > 100:
        raise Problem(422, "invalid_field", "'lineDiscountPercent' must be at most 100.", where)
    amount = rest.number(raw, "lineDiscountAmount", required=False, at=where)
    gross = round(quantity * price, 2)
    if amount is None:
        line_amount = net(quantity, price, percent)
        return percent, round(gross - line_amount, 2), line_amount
    if amount > gross:
        raise Problem(422, "invalid_field", f"'lineDiscountAmount' {amount} is more than the line's {gross}.",
                      where + ".lineDiscountAmount")
    return (round(amount / gross * 100, 5) if gross else 0.0), round(amount, 2), round(gross - amount, 2)


def net(quantity: int, price: float, discount: float) -> float:
    return round(quantity * price * (1 - discount / 100), 2)


def line_net(line: dict, quantity: int) -> float:
    """What the first `quantity` units of a line are worth: all of them are its line amount; fewer carry their
    share of the line discount amount (lines stored before discount amounts existed use the percentage).
    Cumulative, so that partial invoices add up to the line amount to the cent."""
    if quantity == line["quantity"]:
        return line["lineAmount"]
    if line.get("lineDiscountAmount") is None:
        return net(quantity, line["unitPrice"], line["lineDiscountPercent"])
    return round(quantity * line["unitPrice"] - line["lineDiscountAmount"] * quantity / line["quantity"], 2)


def reserve(conn: Connection, lines: list[dict]) -> None:
    """Reserve what is available now, in whole units of each line's UoM; the rest is backordered."""
    for line in lines:
        stock = stock_row(conn, line["itemNo"])
        available = max(0, stock["inventory"] - stock["reserved"])
        reserved = min(line["quantity"], math.floor(available / line["qtyPerUnitOfMeasure"]))
        line["quantityReserved"], line["quantityBackordered"] = reserved, line["quantity"] - reserved
        change_stock(conn, line["itemNo"], LOCATION, reserved=reserved * line["qtyPerUnitOfMeasure"])


def unreserve(conn: Connection, lines: list[dict]) -> None:
    for line in lines:
        left = max(0, line["quantityReserved"] - line["quantityShipped"])
        if left:
            change_stock(conn, line["itemNo"], LOCATION, reserved=-left * line["qtyPerUnitOfMeasure"])


def outstanding(doc: dict) -> float:
    return round(sum(l["lineAmount"] - line_net(l, l["quantityInvoiced"]) for l in doc["lines"]), 2)


_ORDERS = store.erp_sales_orders
_RELEASED_DOC = select(_ORDERS.c.doc).where(_ORDERS.c.no == bindparam("no"), _ORDERS.c.status == "Released")
_OWN_RELEASED = _RELEASED_DOC.where(_ORDERS.c.customer_no == bindparam("customer"))
_EXPOSURE = select(store.erp_credit_exposure.c.released).where(
    store.erp_credit_exposure.c.customer_no == bindparam("customer"))
_MOVE_EXPOSURE = update(store.erp_credit_exposure).where(
    store.erp_credit_exposure.c.customer_no == bindparam("customer")).values(
    released=func.round(store.erp_credit_exposure.c.released + bindparam("change"), 2))


def credit_exceeded(conn: Connection, customer, order_no: str, amount: float, new: bool = False) -> bool:
    """Open balance plus released orders not yet invoiced plus this order, against the credit limit. `new`: the
    order is not stored yet (nothing of it to read)."""
    # this order's stored state counts once, as `amount`
    own = None if new else conn.execute(_OWN_RELEASED, {"no": order_no, "customer": customer["no"]}).scalar()
    others = released_exposure(conn, customer["no"]) - (outstanding(own) if own is not None else 0.0)
    return round(customer["balance"] + others + amount, 2) > customer["credit_limit"]


def released_exposure(conn: Connection, customer_no: str) -> float:
    """What the customer's released orders have outstanding: one row kept by record_exposure, computed from
    the orders the first time a customer is asked about (a database from before the row existed)."""
    exposure = store.erp_credit_exposure
    value = conn.execute(_EXPOSURE, {"customer": customer_no}).scalar()
    if value is None:
        orders = store.erp_sales_orders
        docs = conn.execute(select(orders.c.doc).where(orders.c.customer_no == customer_no,
                                                       orders.c.status == "Released")).scalars()
        value = round(sum(outstanding(doc) for doc in docs), 2)
        conn.execute(exposure.insert().values(customer_no=customer_no, released=value))
    return value


def record_exposure(conn: Connection, order_no: str, after: dict, new: bool = False) -> None:
    """Keep the released exposure in step with an order write; call it before the order row is written, with
    the document about to be stored. The stored one is read afresh: callers' copies share its lines."""
    before = None if new else conn.execute(_RELEASED_DOC, {"no": order_no}).scalar()
    for doc, sign in ((before, -1), (after, 1)):
        if doc is not None and doc["status"] == "Released":
            released_exposure(conn, doc["customerNo"])  # the row exists, computed from the orders as they stand
            conn.execute(_MOVE_EXPOSURE, {"customer": doc["customerNo"], "change": sign * outstanding(doc)})


def decide_status(conn: Connection, customer, doc: dict, new: bool = False) -> None:
    if doc.get("creditOverride") or not credit_exceeded(conn, customer, doc["no"], outstanding(doc), new):
        doc["status"], doc["holdReason"] = "Released", None
    else:
        doc["status"], doc["holdReason"] = "Hold", "CREDIT"


def ship(conn: Connection, doc: dict, data: dict, shipment_no: str) -> list[dict]:
    """Apply a shipment's lines to the order; returns the posted shipment lines."""
    posted = []
    for index, raw in enumerate(rest.items(data, "lines")):
        where = f"lines[{index}]"
        line = _find_line(doc, raw, where)
        quantity = rest.integer(raw, "quantity", minimum=1, at=where)
        uom = (rest.text(raw, "unitOfMeasureCode", required=False, at=where) or line["unitOfMeasureCode"]).upper()
        if uom != line["unitOfMeasureCode"]:
            base = quantity * qty_per(item_row(conn, line["itemNo"]), uom, where + ".unitOfMeasureCode")
            if base % line["qtyPerUnitOfMeasure"]:
                raise Problem(422, "uom_conversion", f"{quantity} {uom} is not a whole number of "
                              f"{line['unitOfMeasureCode']} for line {line['lineNo']}.", where)
            quantity = base // line["qtyPerUnitOfMeasure"]
        if line["quantityShipped"] + quantity > line["quantity"]:
            left = line["quantity"] - line["quantityShipped"]
            raise Problem(422, "over_shipment", f"Line {line['lineNo']}: only {left} {line['unitOfMeasureCode']} "
                          "left to ship.", where)
        factor = line["qtyPerUnitOfMeasure"]
        unreserved = max(0, line["quantityReserved"] - line["quantityShipped"])
        change_stock(conn, line["itemNo"], LOCATION, reserved=-min(quantity, unreserved) * factor)
        post_ledger(conn, line["itemNo"], LOCATION, "Sale", -quantity * factor, shipment_no)
        line["quantityShipped"] += quantity
        # What ships beyond the reservation was a backorder that is now filled.
        line["quantityBackordered"] = max(0, line["quantity"] - max(line["quantityReserved"], line["quantityShipped"]))
        posted.append({"lineNo": line["lineNo"], "itemNo": line["itemNo"], "quantity": quantity,
                       "unitOfMeasureCode": line["unitOfMeasureCode"]})
    return posted


def _find_line(doc: dict, raw: dict, where: str) -> dict:
    line_no = rest.integer(raw, "lineNo", required=False, at=where)
    if line_no is not None:
        match = [l for l in doc["lines"] if l["lineNo"] == line_no]
    else:
        item_no = rest.text(raw, "itemNo", required=True, at=where)
        candidates = [l for l in doc["lines"] if l["itemNo"] == item_no]
        match = [l for l in candidates if l["quantityShipped"] < l["quantity"]] or candidates
    if not match:
        raise Problem(422, "line_not_found", f"No line on order {doc['no']} matches {where}.", where)
    return match[0]


def invoice_lines(doc: dict) -> list[dict]:
    """Invoice what is shipped and not yet invoiced, never what is only ordered."""
    lines = []
    for line in doc["lines"]:
        quantity = line["quantityShipped"] - line["quantityInvoiced"]
        if quantity > 0:
            amount = round(line_net(line, line["quantityInvoiced"] + quantity)
                           - line_net(line, line["quantityInvoiced"]), 2)
            line["quantityInvoiced"] += quantity
            lines.append({"lineNo": line["lineNo"], "itemNo": line["itemNo"], "description": line["description"],
                          "quantity": quantity, "unitOfMeasureCode": line["unitOfMeasureCode"],
                          "unitPrice": line["unitPrice"], "lineDiscountPercent": line["lineDiscountPercent"],
                          "lineDiscountAmount": round(quantity * line["unitPrice"] - amount, 2),
                          "lineAmount": amount})
    if all(l["quantityInvoiced"] == l["quantity"] for l in doc["lines"]):
        doc["status"] = "Closed"
    return lines
