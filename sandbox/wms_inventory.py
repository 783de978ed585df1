"""The simulated WMS's inventory (Manhattan-like) at /wms/api: stock per item, the sequenced event log of every
movement, adjustments, and expected receipts (RMA) received with a condition, where only restock adds stock.
Also the WMS's response style ({"data": [...], "page", ...} and {"success": false, "messages": [...]}).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import bindparam, select, update

from sandbox import clock, rest, store
from sandbox.rest import Problem
from sandbox.seed import WAREHOUSE

bp = Blueprint("wms_inventory", __name__)
SYSTEM = "wms"
CONDITIONS = ("restock", "scrap")


def render_problem(problem: Problem) -> dict:
    message = {"messageKey": "WMS-" + problem.code.upper(), "severity": "ERROR", "description": problem.message}
    if problem.field:
        message["field"] = problem.field
    return {"success": False, "messages": [message]}


def page_response(conn, query, shape, params: dict | None = None):
    number, size = rest.query_int("page", 1, 1, 10**6), rest.query_int("pageSize", 50, 1, 500)
    page = rest.page(conn, query, (number - 1) * size, size, params)
    return jsonify({"success": True, "data": [shape(row) for row in page.rows], "page": number, "pageSize": size,
                    "totalCount": page.total, "totalPages": -(-page.total // size)})


_STOCK = select(store.wms_inventory).where(store.wms_inventory.c.item_id == bindparam("item"),
                                           store.wms_inventory.c.warehouse_id == bindparam("warehouse"))  # built once


def stock(conn, item_id: str, warehouse_id: str, status: int = 404, field_name: str = "itemId"):
    row = conn.execute(_STOCK, {"item": item_id, "warehouse": warehouse_id}).mappings().first()
    if row is None:
        raise Problem(status, "item_not_found", f"Item {item_id} is not set up in warehouse {warehouse_id}.",
                      field_name)
    return row


_MOVE = update(store.wms_inventory).where(store.wms_inventory.c.item_id == bindparam("item"),
                                          store.wms_inventory.c.warehouse_id == bindparam("warehouse"))


def move(conn, item_id: str, warehouse_id: str, on_hand: int, allocated: int, reason: str, reference: str | None):
    """Change stock; a change of on-hand quantity is also an event with the next sequence number."""
    row = stock(conn, item_id, warehouse_id)
    stamp = clock.stamp(conn, SYSTEM)
    values = {"on_hand": row["on_hand"] + on_hand, "allocated": row["allocated"] + allocated, "updated_at": stamp}
    if on_hand:
        sequence = conn.execute(store.wms_inventory_events.insert().values(
            item_id=item_id, warehouse_id=warehouse_id, qty_change=on_hand, on_hand_after=values["on_hand"],
            reason_code=reason, reference=reference, occurred_at=stamp)).inserted_primary_key[0]
        values["last_sequence"] = sequence
    conn.execute(_MOVE, {**values, "item": item_id, "warehouse": warehouse_id})


def _stock_json(row) -> dict:
    return {"itemId": row["item_id"], "warehouseId": row["warehouse_id"], "description": row["description"],
            "onHandQty": row["on_hand"], "allocatedQty": row["allocated"],
            "availableQty": row["on_hand"] - row["allocated"], "uom": "EA", "lastSequence": row["last_sequence"],
            "updatedAt": row["updated_at"]}


@bp.get("/api/inventory")
def list_inventory():
    inventory = store.wms_inventory
    query = select(inventory).order_by(inventory.c.item_id, inventory.c.warehouse_id)
    if request.args.get("itemId"):
        query = query.where(inventory.c.item_id == request.args["itemId"])
    with store.transaction(rest.engine()) as conn:
        return page_response(conn, query, _stock_json)


@bp.get("/api/inventory/<item_id>")
def get_inventory(item_id):
    with store.transaction(rest.engine()) as conn:
        return jsonify({"success": True, "data": _stock_json(
            stock(conn, item_id, request.args.get("warehouseId", WAREHOUSE)))})


@bp.get("/api/inventory-events")
def list_events():
    """The movement log, for polling: ?afterSequence=<last seen>&pageSize=."""
    events = store.wms_inventory_events
    query = select(events).where(events.c.sequence > rest.query_int("afterSequence", 0, 0, 10**12))
    if request.args.get("itemId"):
        query = query.where(events.c.item_id == request.args["itemId"])
    with store.transaction(rest.engine()) as conn:
        return page_response(conn, query.order_by(events.c.sequence), lambda r: {
            "sequence": r["sequence"], "itemId": r["item_id"], "warehouseId": r["warehouse_id"],
            "qtyChange": r["qty_change"], "onHandAfter": r["on_hand_after"], "reasonCode": r["reason_code"],
            "reference": r["reference"], "occurredAt": r["occurred_at"]})


@bp.post("/api/inventory-adjustments")
def adjust():
    """{"itemId", "qtyChange"} or {"itemId", "countedQty"} (a cycle count), with a reasonCode."""
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        warehouse_id = rest.text(data, "warehouseId", required=False, default=WAREHOUSE)
        row = stock(conn, rest.text(data, "itemId"), warehouse_id, status=422)
        if data.get("countedQty") is not None:
            change = rest.integer(data, "countedQty", minimum=0) - row["on_hand"]
            reason = rest.text(data, "reasonCode", required=False, default="CYCLE_COUNT")
        else:
            change = rest.integer(data, "qtyChange")
            reason = rest.text(data, "reasonCode", required=False, default="ADJUSTMENT")
        if row["on_hand"] + change < row["allocated"]:
            raise Problem(422, "insufficient_stock", f"On hand would fall below the {row['allocated']} allocated.",
                          "qtyChange")
        if change:
            move(conn, row["item_id"], warehouse_id, change, 0, reason, rest.text(data, "reference", required=False))
        return jsonify({"success": True, "data": _stock_json(stock(conn, row["item_id"], warehouse_id))}), 201


def _expected_json(row) -> dict:
    return {**row["doc"], "id": row["id"], "receiptNumber": row["receipt_number"], "status": row["status"],
            "recordVersion": row["version"], "createdAt": row["created_at"]}


def _expected(conn, receipt_id: str):
    row = conn.execute(select(store.wms_expected_receipts).where(
        store.wms_expected_receipts.c.id == receipt_id)).mappings().first()
    if row is None:
        raise Problem(404, "receipt_not_found", f"Expected receipt {receipt_id} does not exist.")
    return row


@bp.post("/api/expected-receipts")
def create_expected_receipt():
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        number = rest.text(data, "receiptNumber")
        warehouse_id = rest.text(data, "warehouseId", required=False, default=WAREHOUSE)
        existing = conn.execute(select(store.wms_expected_receipts.c.id).where(
            store.wms_expected_receipts.c.receipt_number == number)).scalar()
        if existing:
            raise Problem(409, "duplicate_receipt", f"Receipt {number} already exists as {existing}.", "receiptNumber")
        lines = []
        for index, raw in enumerate(rest.items(data, "lines")):
            where = f"lines[{index}]"
            item_id = stock(conn, rest.text(raw, "itemId", at=where), warehouse_id, 422, where + ".itemId")["item_id"]
            line_number = rest.integer(raw, "lineNumber", required=False, minimum=1, at=where)
            lines.append({"lineNumber": line_number or index + 1,
                          "itemId": item_id, "expectedQty": rest.integer(raw, "expectedQty", minimum=1, at=where),
                          "receivedQty": 0})
        receipt_id = f"ER{store.next_number(conn, 'wms.expected_receipt', 1):06d}"
        doc = {"receiptType": rest.text(data, "receiptType", required=False, default="RMA"),
               "warehouseId": warehouse_id, "reference": rest.text(data, "reference", required=False), "lines": lines}
        conn.execute(store.wms_expected_receipts.insert().values(
            id=receipt_id, receipt_number=number, status="Expected", doc=doc, version=1,
            created_at=clock.stamp(conn, SYSTEM)))
        row = _expected(conn, receipt_id)
        return rest.with_etag({"success": True, "data": _expected_json(row)}, 1, status=201)


@bp.get("/api/expected-receipts")
def list_expected_receipts():
    receipts = store.wms_expected_receipts
    query = select(receipts).order_by(receipts.c.id)
    if request.args.get("receiptNumber"):
        query = query.where(receipts.c.receipt_number == request.args["receiptNumber"])
    with store.transaction(rest.engine()) as conn:
        return page_response(conn, query, _expected_json)


@bp.get("/api/expected-receipts/<receipt_id>")
def get_expected_receipt(receipt_id):
    with store.transaction(rest.engine()) as conn:
        row = _expected(conn, receipt_id)
        return rest.with_etag({"success": True, "data": _expected_json(row)}, row["version"])


@bp.post("/api/expected-receipts/<receipt_id>/receive")
def receive(receipt_id):
    """Receive lines with a condition: restock puts them back in stock, scrap only records them."""
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        row = _expected(conn, receipt_id)
        rest.check_if_match(row["version"])
        if row["status"] == "Received":
            raise Problem(409, "receipt_closed", f"Receipt {row['receipt_number']} is already fully received.")
        doc = dict(row["doc"])
        receipt_no = f"RCV{store.next_number(conn, 'wms.receipt', 1):06d}"
        received = []
        for index, raw in enumerate(rest.items(data, "lines")):
            where = f"lines[{index}]"
            line = _receipt_line(doc, raw, where)
            quantity = rest.integer(raw, "receivedQty", minimum=1, at=where)
            condition = (rest.text(raw, "condition", at=where) or "").lower()
            if condition not in CONDITIONS:
                raise Problem(422, "invalid_condition", "'condition' must be restock or scrap.", where + ".condition")
            if line["receivedQty"] + quantity > line["expectedQty"]:
                raise Problem(422, "over_receipt", f"Line {line['lineNumber']} expects only "
                              f"{line['expectedQty'] - line['receivedQty']} more.", where + ".receivedQty")
            line["receivedQty"] += quantity
            if condition == "restock":
                move(conn, line["itemId"], doc["warehouseId"], quantity, 0, "RETURN_RESTOCK", row["receipt_number"])
            received.append({"lineNumber": line["lineNumber"], "itemId": line["itemId"], "receivedQty": quantity,
                             "condition": condition})
        status = "Received" if all(l["receivedQty"] == l["expectedQty"] for l in doc["lines"]) else "PartiallyReceived"
        stamp = clock.stamp(conn, SYSTEM)
        conn.execute(update(store.wms_expected_receipts).where(store.wms_expected_receipts.c.id == receipt_id)
                     .values(doc=doc, status=status, version=row["version"] + 1))
        receipt = {"receiptId": receipt_no, "expectedReceiptId": receipt_id, "receiptNumber": row["receipt_number"],
                   "receiptType": doc["receiptType"], "warehouseId": doc["warehouseId"], "receivedAt": stamp,
                   "lines": received}
        conn.execute(store.wms_receipts.insert().values(id=receipt_no, expected_receipt_id=receipt_id,
                                                        receipt_number=row["receipt_number"], doc=receipt,
                                                        received_at=stamp))
        return jsonify({"success": True, "data": receipt}), 201


def _receipt_line(doc: dict, raw: dict, where: str) -> dict:
    number = rest.integer(raw, "lineNumber", required=False, at=where)
    item_id = None if number is not None else rest.text(raw, "itemId", at=where)
    for line in doc["lines"]:
        if line["lineNumber"] == number or (item_id and line["itemId"] == item_id
                                            and line["receivedQty"] < line["expectedQty"]):
            return line
    raise Problem(422, "line_not_found", f"No expected line matches {where}.", where)


@bp.get("/api/receipts")
def list_receipts():
    receipts = store.wms_receipts
    query = select(receipts).order_by(receipts.c.id)
    if request.args.get("receiptNumber"):
        query = query.where(receipts.c.receipt_number == request.args["receiptNumber"])
    with store.transaction(rest.engine()) as conn:
        return page_response(conn, query, lambda r: r["doc"])
