"""The simulated ERP (Business Central-like) at /erp/api: customers with credit limits, items with units of
measure and availability, sales orders with credit holds and backorders, and posted shipments, invoices and
credit memos. Lists page with OData's $top/$skip and @odata.nextLink; records carry @odata.etag.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import select, update

from sandbox import admin, clock, erp_orders, rest, store
from sandbox.rest import Problem
from sandbox.seed import LOCATION

bp = Blueprint("erp", __name__)
SYSTEM = "erp"
admin.add_routes(bp, SYSTEM)
POSTED_KINDS = {"sales-shipments": "shipment", "sales-invoices": "invoice", "sales-credit-memos": "credit_memo"}
NUMBER_SERIES = {"order": ("SO", 101001), "shipment": ("SSH", 102001), "invoice": ("SI", 103001),
                 "credit_memo": ("SCM", 104001)}


def render_problem(problem: Problem) -> dict:
    error = {"code": problem.code, "message": problem.message}
    if problem.field:
        error["target"] = problem.field
    return {"error": error}


def _odata_page(conn, query, shape):
    top, skip = rest.query_int("$top", 100, 1, 1000), rest.query_int("$skip", 0, 0, 10**9)
    page = rest.page(conn, query, skip, top)
    result = {"@odata.count": page.total, "value": [shape(row) for row in page.rows]}
    if page.more:
        args = {**request.args.to_dict(), "$top": top, "$skip": skip + top}
        result["@odata.nextLink"] = url_for(request.endpoint, _external=True, **(request.view_args or {}), **args)
    return jsonify(result)


def _number(conn, kind: str) -> str:
    prefix, start = NUMBER_SERIES[kind]
    return f"{prefix}{store.next_number(conn, 'erp.' + kind, start)}"


# Customers and items

def _customer_json(row) -> dict:
    return {"number": row["no"], "displayName": row["name"], "creditLimit": row["credit_limit"],
            "balance": row["balance"], "blocked": "All" if row["blocked"] else " ", **row["doc"],
            "@odata.etag": f'W/"{row["version"]}"', "version": row["version"]}


def _customer(conn, no: str, status: int = 404):
    row = conn.execute(select(store.erp_customers).where(store.erp_customers.c.no == no)).mappings().first()
    if row is None:
        raise Problem(status, "customer_not_found",
                      f"The Customer does not exist. Identification fields and values: No.='{no}'", "customerNo")
    return row


@bp.get("/api/customers")
def list_customers():
    with store.transaction(rest.engine()) as conn:
        return _odata_page(conn, select(store.erp_customers).order_by(store.erp_customers.c.no), _customer_json)


@bp.get("/api/customers/<no>")
def get_customer(no):
    with store.transaction(rest.engine()) as conn:
        row = _customer(conn, no)
        return rest.with_etag(_customer_json(row), row["version"])


@bp.patch("/api/customers/<no>")
def patch_customer(no):
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        row = _customer(conn, no)
        rest.check_if_match(row["version"])
        values = {"version": row["version"] + 1}
        if "creditLimit" in data:
            values["credit_limit"] = rest.number(data, "creditLimit")
        if "balance" in data:
            values["balance"] = rest.number(data, "balance")
        if "blocked" in data:
            if not isinstance(data["blocked"], bool):
                raise Problem(422, "invalid_field", "'blocked' must be true or false.", "blocked")
            values["blocked"] = data["blocked"]
        conn.execute(update(store.erp_customers).where(store.erp_customers.c.no == no).values(**values))
        row = _customer(conn, no)
        return rest.with_etag(_customer_json(row), row["version"])


def _item_json(row) -> dict:
    return {"number": row["no"], "displayName": row["description"], "baseUnitOfMeasureCode": row["base_uom"],
            "unitPrice": row["unit_price"], "netWeight": row["weight_kg"],
            "itemUnitsOfMeasure": [{"code": code, "qtyPerUnitOfMeasure": qty} for code, qty in row["uoms"].items()],
            "@odata.etag": f'W/"{row["version"]}"'}


def _availability(conn, no: str) -> dict:
    item = erp_orders.item_row(conn, no)
    rows = conn.execute(select(store.erp_item_stock).where(store.erp_item_stock.c.item_no == item["no"])
                        .order_by(store.erp_item_stock.c.location_code)).mappings().all()
    return {"itemNo": item["no"], "baseUnitOfMeasureCode": item["base_uom"], "locations": [
        {"locationCode": r["location_code"], "inventory": r["inventory"], "reservedQuantity": r["reserved"],
         "availableQuantity": r["inventory"] - r["reserved"]} for r in rows]}


@bp.get("/api/items")
def list_items():
    with store.transaction(rest.engine()) as conn:
        return _odata_page(conn, select(store.erp_items).order_by(store.erp_items.c.no), _item_json)


@bp.get("/api/items/<no>")
def get_item(no):
    with store.transaction(rest.engine()) as conn:
        row = conn.execute(select(store.erp_items).where(store.erp_items.c.no == no)).mappings().first()
        if row is None:
            raise Problem(404, "item_not_found", f"The Item does not exist. Identification fields and values: No.='{no}'")
        return rest.with_etag(_item_json(row), row["version"])


@bp.get("/api/items/<no>/availability")
def get_availability(no):
    with store.transaction(rest.engine()) as conn:
        if conn.execute(select(store.erp_items.c.no).where(store.erp_items.c.no == no)).first() is None:
            raise Problem(404, "item_not_found", f"The Item does not exist. Identification fields and values: No.='{no}'")
        return jsonify(_availability(conn, no))


ENTRY_TYPES = {"positiveadjmt": "Positive Adjmt.", "negativeadjmt": "Negative Adjmt.",
               "physicalinventory": "Physical Inventory"}


@bp.post("/api/item-journal")
def post_item_journal():
    """Post one item journal line: an adjustment, or a physical count that posts the difference."""
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        item = erp_orders.item_row(conn, rest.text(data, "itemNo"))
        entry_type = ENTRY_TYPES.get((rest.text(data, "entryType") or "").replace(".", "").replace(" ", "").lower())
        if entry_type is None:
            raise Problem(422, "invalid_field", f"'entryType' must be one of {', '.join(ENTRY_TYPES.values())}.",
                          "entryType")
        location = rest.text(data, "locationCode", required=False, default=LOCATION)
        uom = (rest.text(data, "unitOfMeasureCode", required=False) or item["base_uom"]).upper()
        quantity = rest.integer(data, "quantity", minimum=0) * erp_orders.qty_per(item, uom)
        inventory = erp_orders.stock_row(conn, item["no"], location)["inventory"]
        delta = {"Positive Adjmt.": quantity, "Negative Adjmt.": -quantity}.get(entry_type, quantity - inventory)
        if inventory + delta < 0:
            raise Problem(422, "insufficient_quantity", f"Only {inventory} {item['base_uom']} of {item['no']} "
                          f"are in inventory at {location}.", "quantity")
        document_no = rest.text(data, "documentNo", required=False, default="")
        erp_orders.post_ledger(conn, item["no"], location, entry_type, delta, document_no)
        return jsonify({"itemNo": item["no"], "locationCode": location, "entryType": entry_type, "quantity": delta,
                        "documentNo": document_no, "availability": _availability(conn, item["no"])}), 201


@bp.get("/api/item-ledger-entries")
def list_item_ledger():
    ledger = store.erp_item_ledger
    query = select(ledger).order_by(ledger.c.entry_no)
    if request.args.get("itemNo"):
        query = query.where(ledger.c.item_no == request.args["itemNo"])
    with store.transaction(rest.engine()) as conn:
        return _odata_page(conn, query, lambda r: {
            "entryNo": r["entry_no"], "itemNo": r["item_no"], "locationCode": r["location_code"],
            "entryType": r["entry_type"], "quantity": r["quantity"], "documentNo": r["document_no"],
            "postingDate": r["posted_at"]})


# Sales orders

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


def _save_order(conn, row, doc: dict, **columns):
    """Write the order's new state with its version bumped; returns the stored row."""
    conn.execute(update(store.erp_sales_orders).where(store.erp_sales_orders.c.no == row["no"]).values(
        doc=doc, status=doc["status"], version=row["version"] + 1, updated_at=clock.stamp(conn, SYSTEM), **columns))
    return _order(conn, row["no"])


@bp.get("/api/sales-orders")
def list_sales_orders():
    orders = store.erp_sales_orders
    query = select(orders).order_by(orders.c.no)
    for arg, column in (("status", orders.c.status), ("customerNo", orders.c.customer_no),
                        ("externalDocumentNo", orders.c.external_document_no)):
        if request.args.get(arg):
            query = query.where(column == request.args[arg])
    with store.transaction(rest.engine()) as conn:
        return _odata_page(conn, query, _order_json)


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


def _upsert(conn, data: dict):
    external_no = rest.text(data, "externalDocumentNo")
    customer = _customer(conn, rest.text(data, "customerNo"), status=422)
    if customer["blocked"]:
        raise Problem(422, "customer_blocked", f"Customer {customer['no']} is blocked.", "customerNo")
    fingerprint = rest.request_hash(data)
    orders = store.erp_sales_orders
    existing = conn.execute(select(orders).where(orders.c.external_document_no == external_no)).mappings().first()
    if existing is not None and existing["request_hash"] == fingerprint:
        return rest.with_etag(_order_json(existing), existing["version"])
    lines = erp_orders.build_lines(conn, data)
    ship_to = data.get("shipTo") or customer["doc"]["address"]
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
    doc = {"no": no, "externalDocumentNo": external_no, "customerNo": customer["no"], "customerName": customer["name"],
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
        erp_orders.decide_status(conn, customer, doc)
    stamp = clock.stamp(conn, SYSTEM)
    if existing is None:
        conn.execute(orders.insert().values(no=no, external_document_no=external_no, customer_no=customer["no"],
                                            status=doc["status"], request_hash=fingerprint, doc=doc, version=1,
                                            created_at=stamp, updated_at=stamp))
        row = _order(conn, no)
        return rest.with_etag(_order_json(row), 1, status=201, location=url_for(".get_sales_order", no=no))
    row = _save_order(conn, existing, doc, customer_no=customer["no"], request_hash=fingerprint)
    return rest.with_etag(_order_json(row), row["version"])


@bp.post("/api/sales-orders/<no>/release")
def release_sales_order(no):
    """Release an Open order (credit check), or a held one with {"overrideCreditHold": true}."""
    data = request.get_json(silent=True) or {}
    with store.transaction(rest.engine()) as conn:
        row = _order(conn, no)
        rest.check_if_match(row["version"])
        doc = dict(row["doc"])
        if doc["status"] not in ("Open", "Hold", "Released"):
            raise Problem(409, "invalid_status", f"Sales order {no} is {doc['status']} and cannot be released.")
        if isinstance(data, dict) and data.get("overrideCreditHold") is True:
            doc["creditOverride"] = True
        erp_orders.decide_status(conn, _customer(conn, row["customer_no"]), doc)
        row = _save_order(conn, row, doc)
        return rest.with_etag(_order_json(row), row["version"])


@bp.post("/api/sales-orders/<no>/cancel")
def cancel_sales_order(no):
    with store.transaction(rest.engine()) as conn:
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
        return rest.with_etag(_order_json(row), row["version"])


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
    """Credit returned goods; RESTOCK lines go back into inventory, SCRAP lines only credit the customer."""
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data)
        if replayed is not None:
            return replayed
        customer = _customer(conn, rest.text(data, "customerNo"), status=422)
        external_no = rest.text(data, "externalDocumentNo")
        _reject_duplicate(conn, "credit_memo", external_no, None)
        memo_no = _number(conn, "credit_memo")
        lines = []
        for index, raw in enumerate(rest.items(data, "lines")):
            item = erp_orders.item_row(conn, rest.text(raw, "itemNo"), f"lines[{index}].itemNo")
            uom = (rest.text(raw, "unitOfMeasureCode", required=False) or item["base_uom"]).upper()
            factor = erp_orders.qty_per(item, uom, f"lines[{index}].unitOfMeasureCode")
            quantity = rest.integer(raw, "quantity", minimum=1)
            price = rest.number(raw, "unitPrice", required=False)
            price = round(item["unit_price"] * factor, 2) if price is None else price
            disposition = (rest.text(raw, "disposition", required=False) or "RESTOCK").upper()
            if disposition not in ("RESTOCK", "SCRAP"):
                raise Problem(422, "invalid_field", "'disposition' must be RESTOCK or SCRAP.",
                              f"lines[{index}].disposition")
            location = rest.text(raw, "locationCode", required=False, default=LOCATION)
            if disposition == "RESTOCK":
                erp_orders.post_ledger(conn, item["no"], location, "Sales Return", quantity * factor, memo_no)
            lines.append({"lineNo": (index + 1) * 10000, "itemNo": item["no"], "quantity": quantity,
                          "unitOfMeasureCode": uom, "unitPrice": price, "lineAmount": round(quantity * price, 2),
                          "disposition": disposition, "locationCode": location,
                          "returnReasonCode": rest.text(raw, "returnReasonCode", required=False)})
        amount = round(sum(l["lineAmount"] for l in lines), 2)
        memo = {"no": memo_no, "externalDocumentNo": external_no, "customerNo": customer["no"],
                "appliesToInvoiceNo": rest.text(data, "appliesToInvoiceNo", required=False),
                "creditMemoDate": clock.now(conn, SYSTEM).date().isoformat(),
                "totalAmountExcludingTax": amount, "lines": lines}
        _post_document(conn, "credit_memo", memo, None, customer["no"], external_no, amount)
        _adjust_balance(conn, customer["no"], -amount)
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
        balance=customers.c.balance + amount, version=customers.c.version + 1))


@bp.get("/api/<any('sales-shipments', 'sales-invoices', 'sales-credit-memos'):kind>")
def list_posted(kind):
    docs = store.erp_posted_documents
    query = select(docs).where(docs.c.kind == POSTED_KINDS[kind]).order_by(docs.c.posted_at, docs.c.no)
    for arg, column in (("orderNo", docs.c.order_no), ("customerNo", docs.c.customer_no),
                        ("externalDocumentNo", docs.c.external_document_no)):
        if request.args.get(arg):
            query = query.where(column == request.args[arg])
    with store.transaction(rest.engine()) as conn:
        return _odata_page(conn, query, lambda r: {**r["doc"], "postedAt": r["posted_at"]})


@bp.get("/api/<any('sales-shipments', 'sales-invoices', 'sales-credit-memos'):kind>/<no>")
def get_posted(kind, no):
    docs = store.erp_posted_documents
    with store.transaction(rest.engine()) as conn:
        row = conn.execute(select(docs).where(docs.c.kind == POSTED_KINDS[kind], docs.c.no == no)).mappings().first()
        if row is None:
            raise Problem(404, "document_not_found", f"Posted document {no} does not exist.")
        return jsonify({**row["doc"], "postedAt": row["posted_at"]})
