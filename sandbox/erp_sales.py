"""The simulated ERP's sales documents at /erp/api: sales orders (upsert by externalDocumentNo, credit holds,
backorders, line discounts as percentage or amount), and the posted sales shipments, invoices (shipped quantities
only) and credit memos. Every write honours an Idempotency-Key (the same key and body replay the first answer).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import bindparam, func, select, update

from sandbox import clock, erp_orders, rest, store
from sandbox.erp import customer, odata_page
from sandbox.rest import Problem
from sandbox.seed import LOCATION

bp = Blueprint("erp_sales", __name__)
SYSTEM = "erp"
POSTED_KINDS = {"sales-shipments": "shipment", "sales-invoices": "invoice", "sales-credit-memos": "credit_memo"}
NUMBER_SERIES = {"order": ("SO", 101001), "shipment": ("SSH", 102001), "invoice": ("SI", 103001),
                 "credit_memo": ("SCM", 104001)}


def _number(conn, kind: str) -> str:
    prefix, start = NUMBER_SERIES[kind]
    return f"{prefix}{store.next_number(conn, 'erp.' + kind, start)}"


def _order_json(row) -> dict:
    doc = row["doc"]
    shipped = sum(l["quantityShipped"] for l in doc["lines"])
    ship_status = "Complete" if all(l["quantityShipped"] == l["quantity"] for l in doc["lines"]) else (
        "Partial" if shipped else "None")
    return {**doc, "amount": round(sum(l["lineAmount"] for l in doc["lines"]), 2),
            "amountOutstanding": erp_orders.outstanding(doc), "shipStatus": ship_status,
            "createdAt": row["created_at"], "lastModifiedDateTime": row["updated_at"], "version": row["version"],
            "@odata.etag": f'W/"{row["version"]}"'}


def _order(conn, no: str):
    row = conn.execute(select(store.erp_sales_orders).where(store.erp_sales_orders.c.no == no)).mappings().first()
    if row is None:
        raise Problem(404, "sales_order_not_found", f"The Sales Header does not exist. Identification fields and "
                      f"values: Document Type='Order',No.='{no}'")
    return row


_SAVE = update(store.erp_sales_orders).where(store.erp_sales_orders.c.no == bindparam("row_no"))  # SET: the values


def _save_order(conn, row, doc: dict, **columns):
    """Write the order's new state with its version bumped; returns the row as stored (not read back)."""
    erp_orders.record_exposure(conn, row["no"], doc)
    values = dict(doc=doc, status=doc["status"], version=row["version"] + 1, updated_at=clock.stamp(conn, SYSTEM),
                  **columns)
    conn.execute(_SAVE, {**values, "row_no": row["no"]})
    return {**row, **values}


@bp.get("/api/sales-orders")
def list_sales_orders():
    orders = store.erp_sales_orders
    query = select(orders).order_by(orders.c.no)
    for arg, column in (("status", orders.c.status), ("customerNo", orders.c.customer_no),
                        ("externalDocumentNo", orders.c.external_document_no)):
        if request.args.get(arg):
            query = query.where(column == request.args[arg])
    with store.transaction(rest.engine()) as conn:
        return odata_page(conn, query, _order_json)


@bp.get("/api/backorder-lines")
def list_backorder_lines():
    """Open order lines that stock could not cover, oldest order first: what a buyer would expedite."""
    orders = store.erp_sales_orders
    query = select(orders.c.doc).where(orders.c.status.in_(erp_orders.OPEN_STATUSES)).order_by(orders.c.no)
    item = request.args.get("itemNo")
    with store.transaction(rest.engine()) as conn:
        lines = [{"documentNo": doc["no"], "externalDocumentNo": doc["externalDocumentNo"],
                  "customerNo": doc["customerNo"], "status": doc["status"], "lineNo": line["lineNo"],
                  "itemNo": line["itemNo"], "unitOfMeasureCode": line["unitOfMeasureCode"],
                  "quantityBackordered": line["quantityBackordered"]}
                 for doc in conn.execute(query).scalars() for line in doc["lines"]
                 if line["quantityBackordered"] > 0 and item in (None, line["itemNo"])]
    return jsonify({"@odata.count": len(lines), "value": lines})


@bp.get("/api/sales-orders/<no>")
def get_sales_order(no):
    with store.transaction(rest.engine()) as conn:
        row = _order(conn, no)
        return rest.with_etag(_order_json(row), row["version"])


@bp.post("/api/sales-orders")
def upsert_sales_order():
    """Create, or replace by externalDocumentNo while nothing has shipped; Idempotency-Key replays."""
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data)
        if replayed is not None:
            return replayed
        response = _upsert(conn, erp_orders.from_header_shape(data) if "SO_HEADER" in data else data)
        rest.remember(conn, SYSTEM, data, response)
        return response


_BY_EXTERNAL_NO = select(store.erp_sales_orders).where(
    store.erp_sales_orders.c.external_document_no == bindparam("external_no"))  # built once


def _upsert(conn, data: dict):
    external_no = rest.text(data, "externalDocumentNo")
    customer_row = customer(conn, rest.text(data, "customerNo"), status=422)
    if customer_row["blocked"]:
        raise Problem(422, "customer_blocked", f"Customer {customer_row['no']} is blocked.", "customerNo")
    fingerprint = rest.request_hash(data)
    orders = store.erp_sales_orders
    existing = conn.execute(_BY_EXTERNAL_NO, {"external_no": external_no}).mappings().first()
    if existing is not None and existing["request_hash"] == fingerprint:
        return rest.with_etag(_order_json(existing), existing["version"])
    lines = erp_orders.build_lines(conn, data)
    ship_to = data.get("shipTo") or customer_row["doc"]["address"]
    if not isinstance(ship_to, dict):
        raise Problem(422, "invalid_field", "'shipTo' must be an object.", "shipTo")
    now = clock.now(conn, SYSTEM)
    if existing is not None:
        old = existing["doc"]
        if old["status"] not in erp_orders.OPEN_STATUSES or any(l["quantityShipped"] for l in old["lines"]):
            raise Problem(409, "order_locked", f"Sales order {existing['no']} ({external_no}) is {old['status']} "
                          "or has shipped lines and can no longer be changed.", "externalDocumentNo")
        erp_orders.unreserve(conn, old["lines"])
    no = existing["no"] if existing is not None else _number(conn, "order")
    doc = {"no": no, "externalDocumentNo": external_no, "customerNo": customer_row["no"],
           "customerName": customer_row["name"],
           "orderDate": erp_orders.parse_date(data.get("orderDate"), "orderDate") or now.date().isoformat(),
           "requestedDeliveryDate": erp_orders.parse_date(data.get("requestedDeliveryDate"), "requestedDeliveryDate"),
           "currencyCode": rest.text(data, "currencyCode", required=False, default="USD"),
           "shipmentMethodCode": rest.text(data, "shipmentMethodCode", required=False),
           "locationCode": LOCATION, "shipTo": ship_to, "lines": lines,
           "creditOverride": bool(existing and existing["doc"].get("creditOverride"))}
    erp_orders.reserve(conn, lines)
    if data.get("release") is False:
        doc["status"], doc["holdReason"] = "Open", None
    else:
        erp_orders.decide_status(conn, customer_row, doc, new=existing is None)
    stamp = clock.stamp(conn, SYSTEM)
    if existing is None:
        erp_orders.record_exposure(conn, no, doc, new=True)
        row = dict(no=no, external_document_no=external_no, customer_no=customer_row["no"], status=doc["status"],
                   request_hash=fingerprint, doc=doc, version=1, created_at=stamp, updated_at=stamp)
        conn.execute(orders.insert(), row)
        return rest.with_etag(_order_json(row), 1, status=201, location=url_for(".get_sales_order", no=no))
    row = _save_order(conn, existing, doc, customer_no=customer_row["no"], request_hash=fingerprint)
    return rest.with_etag(_order_json(row), row["version"])


@bp.post("/api/sales-orders/<no>/release")
def release_sales_order(no):
    """Release an Open order (credit check), or a held one with {"overrideCreditHold": true}."""
    data = request.get_json(silent=True) or {}
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data)
        if replayed is not None:
            return replayed
        row = _order(conn, no)
        rest.check_if_match(row["version"])
        doc = dict(row["doc"])
        if doc["status"] not in ("Open", "Hold", "Released"):
            raise Problem(409, "invalid_status", f"Sales order {no} is {doc['status']} and cannot be released.")
        if isinstance(data, dict) and data.get("overrideCreditHold") is True:
            doc["creditOverride"] = True
        erp_orders.decide_status(conn, customer(conn, row["customer_no"]), doc)
        row = _save_order(conn, row, doc)
        response = rest.with_etag(_order_json(row), row["version"])
        rest.remember(conn, SYSTEM, data, response)
        return response


@bp.post("/api/sales-orders/<no>/cancel")
def cancel_sales_order(no):
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, None)
        if replayed is not None:
            return replayed
        row = _order(conn, no)
        rest.check_if_match(row["version"])
        doc = dict(row["doc"])
        if doc["status"] not in erp_orders.OPEN_STATUSES or any(l["quantityShipped"] for l in doc["lines"]):
            raise Problem(409, "invalid_status", f"Sales order {no} is {doc['status']} or has shipped lines.")
        erp_orders.unreserve(conn, doc["lines"])
        for line in doc["lines"]:
            line["quantityReserved"] = line["quantityBackordered"] = 0
        doc["status"], doc["holdReason"] = "Cancelled", None
        row = _save_order(conn, row, doc)
        response = rest.with_etag(_order_json(row), row["version"])
        rest.remember(conn, SYSTEM, None, response)
        return response


@bp.post("/api/sales-orders/<no>/shipments")
def post_shipment(no):
    """Post a sales shipment for some lines; a shipment's externalDocumentNo is posted once per order."""
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data)
        if replayed is not None:
            return replayed
        row = _order(conn, no)
        doc = dict(row["doc"])
        if doc["status"] != "Released":
            raise Problem(409, "invalid_status", f"Sales order {no} is {doc['status']}"
                          + (f" ({doc['holdReason']} hold)" if doc.get("holdReason") else "") + "; release it first.")
        external_no = rest.text(data, "externalDocumentNo", required=False)
        _reject_duplicate(conn, "shipment", external_no, no)
        shipment_no = _number(conn, "shipment")
        lines = erp_orders.ship(conn, doc, data, shipment_no)
        posted = {"no": shipment_no, "orderNo": no, "externalDocumentNo": external_no,
                  "customerNo": row["customer_no"], "shipmentDate": clock.now(conn, SYSTEM).date().isoformat(),
                  "packageTrackingNo": rest.text(data, "packageTrackingNo", required=False),
                  "shippingAgentCode": rest.text(data, "shippingAgentCode", required=False), "lines": lines}
        _post_document(conn, "shipment", posted, no, row["customer_no"], external_no, None)
        _save_order(conn, row, doc)
        response = jsonify(posted)
        response.status_code = 201
        rest.remember(conn, SYSTEM, data, response)
        return response


@bp.post("/api/sales-orders/<no>/invoice")
def post_invoice(no):
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, None)
        if replayed is not None:
            return replayed
        row = _order(conn, no)
        doc = dict(row["doc"])
        lines = erp_orders.invoice_lines(doc)
        if not lines:
            raise Problem(422, "nothing_to_post", f"There is nothing to invoice on sales order {no}: "
                          "only shipped quantities are invoiced.")
        amount = round(sum(l["lineAmount"] for l in lines), 2)
        invoice = {"no": _number(conn, "invoice"), "orderNo": no, "externalDocumentNo": doc["externalDocumentNo"],
                   "customerNo": row["customer_no"], "invoiceDate": clock.now(conn, SYSTEM).date().isoformat(),
                   "currencyCode": doc["currencyCode"], "totalAmountExcludingTax": amount, "lines": lines}
        _post_document(conn, "invoice", invoice, no, row["customer_no"], doc["externalDocumentNo"], amount)
        _adjust_balance(conn, row["customer_no"], amount)
        _save_order(conn, row, doc)
        response = jsonify(invoice)
        response.status_code = 201
        rest.remember(conn, SYSTEM, None, response)
        return response


@bp.post("/api/sales-credit-memos")
def post_credit_memo():
    """Credit returned goods at the price invoiced (unitPrice and lineDiscountAmount, as the invoice line had them;
    the item's price when none is sent); RESTOCK lines go back into inventory, SCRAP lines only credit."""
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data)
        if replayed is not None:
            return replayed
        customer_row = customer(conn, rest.text(data, "customerNo"), status=422)
        external_no = rest.text(data, "externalDocumentNo")
        _reject_duplicate(conn, "credit_memo", external_no, None)
        memo_no = _number(conn, "credit_memo")
        lines = []
        for index, raw in enumerate(rest.items(data, "lines")):
            where = f"lines[{index}]"
            item = erp_orders.item_row(conn, rest.text(raw, "itemNo", at=where), f"lines[{index}].itemNo")
            uom = (rest.text(raw, "unitOfMeasureCode", required=False, at=where) or item["base_uom"]).upper()
            factor = erp_orders.qty_per(item, uom, f"lines[{index}].unitOfMeasureCode")
            quantity = rest.integer(raw, "quantity", minimum=1, at=where)
            price = rest.number(raw, "unitPrice", required=False, at=where)
            price = round(item["unit_price"] * factor, 2) if price is None else price
            disposition = (rest.text(raw, "disposition", required=False, at=where) or "RESTOCK").upper()
            if disposition not in ("RESTOCK", "SCRAP"):
                raise Problem(422, "invalid_field", "'disposition' must be RESTOCK or SCRAP.",
                              f"lines[{index}].disposition")
            discount = rest.number(raw, "lineDiscountAmount", required=False, default=0.0, at=where)
            if discount > round(quantity * price, 2):
                raise Problem(422, "invalid_field", "'lineDiscountAmount' is more than the line's amount.",
                              f"lines[{index}].lineDiscountAmount")
            location = rest.text(raw, "locationCode", required=False, default=LOCATION, at=where)
            if disposition == "RESTOCK":
                erp_orders.post_ledger(conn, item["no"], location, "Sales Return", quantity * factor, memo_no)
            lines.append({"lineNo": (index + 1) * 10000, "itemNo": item["no"], "quantity": quantity,
                          "unitOfMeasureCode": uom, "unitPrice": price, "lineDiscountAmount": round(discount, 2),
                          "lineAmount": round(quantity * price - discount, 2),
                          "disposition": disposition, "locationCode": location,
                          "returnReasonCode": rest.text(raw, "returnReasonCode", required=False, at=where)})
        amount = round(sum(l["lineAmount"] for l in lines), 2)
        memo = {"no": memo_no, "externalDocumentNo": external_no, "customerNo": customer_row["no"],
                "appliesToInvoiceNo": rest.text(data, "appliesToInvoiceNo", required=False),
                "creditMemoDate": clock.now(conn, SYSTEM).date().isoformat(),
                "totalAmountExcludingTax": amount, "lines": lines}
        _post_document(conn, "credit_memo", memo, None, customer_row["no"], external_no, amount)
        _adjust_balance(conn, customer_row["no"], -amount)
        response = jsonify(memo)
        response.status_code = 201
        rest.remember(conn, SYSTEM, data, response)
        return response


def _reject_duplicate(conn, kind: str, external_no: str | None, order_no: str | None) -> None:
    if not external_no:
        return
    docs = store.erp_posted_documents
    query = select(docs.c.no).where(docs.c.kind == kind, docs.c.external_document_no == external_no)
    if order_no:
        query = query.where(docs.c.order_no == order_no)
    existing = conn.execute(query).scalar()
    if existing:
        raise Problem(409, "already_posted", f"External document {external_no} is already posted as {existing}.",
                      "externalDocumentNo", existing=existing)


def _post_document(conn, kind, doc, order_no, customer_no, external_no, amount) -> None:
    conn.execute(store.erp_posted_documents.insert().values(
        no=doc["no"], kind=kind, order_no=order_no, customer_no=customer_no, external_document_no=external_no,
        amount=amount, doc=doc, posted_at=clock.stamp(conn, SYSTEM)))


def _adjust_balance(conn, customer_no: str, amount: float) -> None:
    customers = store.erp_customers
    conn.execute(update(customers).where(customers.c.no == customer_no).values(
        balance=func.round(customers.c.balance + amount, 2), version=customers.c.version + 1))


@bp.get("/api/<any('sales-shipments', 'sales-invoices', 'sales-credit-memos'):kind>")
def list_posted(kind):
    docs = store.erp_posted_documents
    query = select(docs).where(docs.c.kind == POSTED_KINDS[kind]).order_by(docs.c.posted_at, docs.c.no)
    for arg, column in (("orderNo", docs.c.order_no), ("customerNo", docs.c.customer_no),
                        ("externalDocumentNo", docs.c.external_document_no)):
        if request.args.get(arg):
            query = query.where(column == request.args[arg])
    with store.transaction(rest.engine()) as conn:
        return odata_page(conn, query, lambda r: {**r["doc"], "postedAt": r["posted_at"]})


@bp.get("/api/<any('sales-shipments', 'sales-invoices', 'sales-credit-memos'):kind>/<no>")
def get_posted(kind, no):
    docs = store.erp_posted_documents
    with store.transaction(rest.engine()) as conn:
        row = conn.execute(select(docs).where(docs.c.kind == POSTED_KINDS[kind], docs.c.no == no)).mappings().first()
        if row is None:
            raise Problem(404, "document_not_found", f"Posted document {no} does not exist.")
        return jsonify({**row["doc"], "postedAt": row["posted_at"]})
