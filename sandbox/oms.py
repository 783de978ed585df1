"""The simulated OMS (Shopify/Manhattan-like) at /oms/api, its orders: lowercase SKUs, line discounts and their
own statuses, fulfillments, returns and refunds, with webhooks on order created, updated, cancelled and return
created. An order's `note_attributes` are Shopify's name/value pairs a storefront's checkout adds (a delivery date
picker's `requested_delivery_date`, YYYY-MM-DD, is the one the order-release template reads); the OMS keeps them
as text, unchecked, as Shopify does. Lists page with limit + since_id and a Link header; changes take If-Match
against `version`; every POST that creates something honours an Idempotency-Key (same key and body: the first
answer). The catalogue, inventory levels and webhook subscriptions are in sandbox.oms_catalog.
"""
from __future__ import annotations

from flask import Blueprint, current_app, request
from sqlalchemy import bindparam, select, update

from sandbox import admin, clock, rest, store, webhooks
from sandbox.oms_catalog import page, unwrap
from sandbox.rest import Problem

bp = Blueprint("oms", __name__)
SYSTEM = "oms"
admin.add_routes(bp, SYSTEM)

TRANSITIONS = {
    "created": {"on_hold", "released", "cancelled"},
    "on_hold": {"released", "cancelled"},
    "released": {"on_hold", "partially_shipped", "shipped", "cancelled"},
    "partially_shipped": {"shipped"},
    "shipped": {"return_requested"},
    "return_requested": {"refunded", "shipped"},
    "refunded": set(),
    "cancelled": set(),
}
MAX_ATTRIBUTES, MAX_ATTRIBUTE_TEXT = 50, 1000  # note attributes an order keeps, characters of a name or value


def render_problem(problem: Problem) -> dict:
    return {"errors": {problem.field or "base": [problem.message]}}


def _send(ids: list[int]) -> None:
    current_app.extensions["sandbox.webhooks"].submit(ids)


# Orders

def _order_json(row) -> dict:
    return {"id": row["id"], "name": row["name"], "status": row["status"], **row["doc"], "version": row["version"],
            "created_at": row["created_at"], "updated_at": row["updated_at"]}


_ORDER = select(store.oms_orders).where(store.oms_orders.c.id == bindparam("id"))  # built once


def _order(conn, order_id: int):
    row = conn.execute(_ORDER, {"id": order_id}).mappings().first()
    if row is None:
        raise Problem(404, "not_found", "Not Found")
    return row


_SAVE = update(store.oms_orders).where(store.oms_orders.c.id == bindparam("row_id"))  # SET: the values given


def _save(conn, row, doc: dict, status: str, topics: tuple[str, ...]) -> tuple:
    values = dict(doc=doc, status=status, version=row["version"] + 1, updated_at=clock.stamp(conn, SYSTEM))
    conn.execute(_SAVE, {**values, "row_id": row["id"]})
    updated = {**row, **values}  # as stored, not read back
    payload = _order_json(updated)
    return updated, [i for topic in topics for i in webhooks.record(conn, topic, payload)]


def _respond(row, ids: list[int], status: int = 200):
    _send(ids)
    return _answer(row, status)


def _answer(row, status: int = 200):
    return rest.with_etag({"order": _order_json(row)}, row["version"], status=status)


def _keyed(conn, data, row, status: int):
    """The answer of a write that honours an Idempotency-Key, stored under it in the write's transaction."""
    response = _answer(row, status)
    rest.remember(conn, SYSTEM, data, response)
    return response


@bp.post("/api/orders")
def create_order():
    data = unwrap(rest.body(), "order")
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data)
        if replayed is not None:
            return replayed
        lines = []
        for index, raw in enumerate(rest.items(data, "line_items")):
            where = f"line_items[{index}]"
            sku = rest.text(raw, "sku", at=where)
            product = conn.execute(select(store.oms_products.c.doc).where(store.oms_products.c.sku == sku)).scalar()
            if product is None:
                raise Problem(422, "invalid_sku", f"sku {sku} does not match a product.", f"line_items[{index}].sku")
            quantity = rest.integer(raw, "quantity", minimum=1, at=where)
            price = raw.get("price", product["price"])
            try:
                price = f"{float(price):.2f}"
            except (TypeError, ValueError):
                raise Problem(422, "invalid_field", "price must be a number.", f"line_items[{index}].price") from None
            allocations = _discounts(raw, quantity, float(price), where)
            lines.append({"id": index + 1, "sku": sku, "title": product["title"], "quantity": quantity,
                          "price": price, "discount_allocations": allocations,
                          "total_discount": _money(sum(float(a["amount"]) for a in allocations)),
                          "fulfilled_quantity": 0, "fulfillable_quantity": quantity})
        customer = None
        if data.get("customer") is not None:
            customer_id = rest.integer(unwrap(data, "customer"), "id")
            customer = conn.execute(select(store.oms_customers.c.doc).where(
                store.oms_customers.c.id == customer_id)).scalar()
            if customer is None:
                raise Problem(422, "invalid_customer", f"customer {customer_id} does not exist.", "customer")
        number = store.next_number(conn, "oms.order", 1001)
        name = rest.text(data, "name", required=False, default=f"#{number}")
        if conn.execute(select(store.oms_orders.c.id).where(store.oms_orders.c.name == name)).first():
            raise Problem(422, "taken", "name has already been taken", "name")
        address = data.get("shipping_address") or (customer or {}).get("default_address") or {}
        if not isinstance(address, dict):
            raise Problem(422, "invalid_field", "shipping_address must be an object.", "shipping_address")
        stamp = clock.stamp(conn, SYSTEM)
        order_id = 5_000_000 + number
        doc = {"email": rest.text(data, "email", required=False, default=(customer or {}).get("email")),
               "customer": customer, "shipping_address": address,
               "currency": rest.text(data, "currency", required=False, default="USD"),
               "financial_status": rest.text(data, "financial_status", required=False, default="paid"),
               "fulfillment_status": None, "note": rest.text(data, "note", required=False),
               "tags": rest.text(data, "tags", required=False, default=""),
               "note_attributes": _note_attributes(data), "line_items": lines,
               **_totals(lines),
               "fulfillments": [], "returns": [], "refunds": [], "cancelled_at": None, "cancel_reason": None}
        conn.execute(store.oms_orders.insert().values(id=order_id, name=name, status="created", doc=doc, version=1,
                                                      created_at=stamp, updated_at=stamp))
        row = _order(conn, order_id)
        ids = webhooks.record(conn, "orders/create", _order_json(row))
        response = _keyed(conn, data, row, 201)
    _send(ids)
    return response


def _note_attributes(data: dict) -> list[dict]:
    """The order's note attributes as Shopify keeps them: a list of {"name", "value"} strings (a number is kept as
    its text), at most MAX_ATTRIBUTES, names unique."""
    raw = data.get("note_attributes")
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_ATTRIBUTES or not all(isinstance(a, dict) for a in raw):
        raise Problem(422, "invalid_field", f"note_attributes must be a list of at most {MAX_ATTRIBUTES} objects "
                      "with a name and a value.", "note_attributes")
    attributes, names = [], set()
    for index, item in enumerate(raw):
        where = f"note_attributes[{index}]"
        name = rest.text(item, "name", at=where)
        value = rest.text(item, "value", required=False, default="", at=where)
        if len(name) > MAX_ATTRIBUTE_TEXT or len(value) > MAX_ATTRIBUTE_TEXT:
            raise Problem(422, "invalid_field", f"a note attribute's name and value are at most {MAX_ATTRIBUTE_TEXT} "
                          "characters.", where)
        if name in names:
            raise Problem(422, "taken", f"note attribute {name} is given twice.", where + ".name")
        names.add(name)
        attributes.append({"name": name, "value": value})
    return attributes


def _money(value: float) -> str:
    return f"{round(value + 0.0, 2):.2f}"


def _discounts(raw: dict, quantity: int, price: float, where: str) -> list[dict]:
    """A line's discounts, each with the amount it takes off the line: `percentage` of the line's price, or
    `fixed_amount` off each unit (Shopify's value types); both may apply to one line."""
    discounts = raw.get("discounts") or []
    if not isinstance(discounts, list) or not all(isinstance(d, dict) for d in discounts):
        raise Problem(422, "invalid_field", "discounts must be a list of objects.", where + ".discounts")
    allocations = []
    for index, discount in enumerate(discounts):
        at = f"{where}.discounts[{index}]"
        kind = discount.get("value_type")
        try:
            value = float(discount.get("value"))
        except (TypeError, ValueError):
            raise Problem(422, "invalid_field", "value must be a number.", at + ".value") from None
        if kind not in ("percentage", "fixed_amount") or not 0 <= value <= (100 if kind == "percentage" else price):
            raise Problem(422, "invalid_field", "value_type must be percentage (0-100) or fixed_amount (at most "
                          "the price).", at)
        amount = quantity * price * value / 100 if kind == "percentage" else quantity * value
        allocations.append({"value_type": kind, "value": f"{value:g}", "amount": _money(amount),
                            "title": str(discount.get("title") or "")})
    if sum(float(a["amount"]) for a in allocations) > quantity * price + 0.005:
        raise Problem(422, "invalid_field", "the discounts are more than the line's price.", where + ".discounts")
    return allocations


def _totals(lines: list[dict]) -> dict:
    """The order's money, in the OMS's own strings: line items, discounts, and what the customer pays."""
    gross = sum(float(l["price"]) * l["quantity"] for l in lines)
    discounts = sum(float(l["total_discount"]) for l in lines)
    return {"total_line_items_price": _money(gross), "total_discounts": _money(discounts),
            "subtotal_price": _money(gross - discounts), "total_price": _money(gross - discounts)}


@bp.get("/api/orders")
def list_orders():
    filters = [store.oms_orders.c.status == request.args["status"]] if request.args.get("status") else []
    if request.args.get("name"):
        filters.append(store.oms_orders.c.name == request.args["name"])
    with store.transaction(rest.engine()) as conn:
        return page(conn, store.oms_orders, "orders", _order_json, *filters)


@bp.get("/api/orders/<int:order_id>")
def get_order(order_id):
    with store.transaction(rest.engine()) as conn:
        row = _order(conn, order_id)
        return rest.with_etag({"order": _order_json(row)}, row["version"])


def _move(row, status: str) -> None:
    if status not in TRANSITIONS:
        raise Problem(422, "invalid_status", f"status must be one of {', '.join(TRANSITIONS)}.", "status")
    if status != row["status"] and status not in TRANSITIONS[row["status"]]:
        raise Problem(409, "invalid_transition", f"An order that is {row['status']} cannot become {status}.", "status")


@bp.patch("/api/orders/<int:order_id>")
def update_order(order_id):
    data = unwrap(rest.body(), "order")
    with store.transaction(rest.engine()) as conn:
        row = _order(conn, order_id)
        rest.check_if_match(row["version"])
        doc, status = dict(row["doc"]), row["status"]
        if "status" in data:
            status = rest.text(data, "status")
            _move(row, status)
        for name in ("note", "tags"):
            if name in data:
                doc[name] = rest.text(data, name, required=False)
        if "note_attributes" in data:
            doc["note_attributes"] = _note_attributes(data)
        if "shipping_address" in data:
            if not isinstance(data["shipping_address"], dict):
                raise Problem(422, "invalid_field", "shipping_address must be an object.", "shipping_address")
            doc["shipping_address"] = data["shipping_address"]
        if status == "cancelled" and row["status"] != "cancelled":
            doc["cancelled_at"], doc["cancel_reason"] = clock.stamp(conn, SYSTEM), data.get("cancel_reason", "other")
            topics = ("orders/updated", "orders/cancelled")
        else:
            topics = ("orders/updated",)
        row, ids = _save(conn, row, doc, status, topics)
    return _respond(row, ids)


@bp.post("/api/orders/<int:order_id>/cancel")
def cancel_order(order_id):
    data = request.get_json(silent=True)
    reason = data.get("reason", "other") if isinstance(data, dict) else "other"
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data)
        if replayed is not None:
            return replayed
        row = _order(conn, order_id)
        rest.check_if_match(row["version"])
        _move(row, "cancelled")
        if row["status"] == "cancelled":
            raise Problem(409, "already_cancelled", "The order is already cancelled.")
        doc = dict(row["doc"], cancelled_at=clock.stamp(conn, SYSTEM), cancel_reason=str(reason))
        row, ids = _save(conn, row, doc, "cancelled", ("orders/updated", "orders/cancelled"))
        response = _keyed(conn, data, row, 200)
    _send(ids)
    return response


def _line(doc: dict, raw: dict, where: str) -> dict:
    line_id = rest.integer(raw, "id", required=False, at=where)
    sku = None if line_id is not None else rest.text(raw, "sku", at=where)
    for line in doc["line_items"]:
        if line["id"] == line_id or line["sku"] == sku:
            return line
    raise Problem(422, "invalid_line_item", f"{where} does not match a line item.", where)


@bp.post("/api/orders/<int:order_id>/fulfillments")
def create_fulfillment(order_id):
    """Record shipped quantities; the order becomes partially_shipped or shipped."""
    data = unwrap(rest.body(), "fulfillment")
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data)
        if replayed is not None:
            return replayed
        row = _order(conn, order_id)
        if row["status"] not in ("released", "partially_shipped"):
            raise Problem(409, "invalid_transition", f"An order that is {row['status']} cannot be fulfilled.")
        doc = dict(row["doc"])
        shipped = []
        for index, raw in enumerate(rest.items(data, "line_items")):
            where = f"line_items[{index}]"
            line = _line(doc, raw, where)
            quantity = rest.integer(raw, "quantity", minimum=1, at=where)
            if quantity > line["fulfillable_quantity"]:
                raise Problem(422, "over_fulfilled", f"only {line['fulfillable_quantity']} of {line['sku']} can be "
                              "fulfilled.", where + ".quantity")
            line["fulfilled_quantity"] += quantity
            line["fulfillable_quantity"] -= quantity
            shipped.append({"id": line["id"], "sku": line["sku"], "quantity": quantity})
        complete = all(l["fulfillable_quantity"] == 0 for l in doc["line_items"])
        doc["fulfillment_status"] = "fulfilled" if complete else "partial"
        doc["fulfillments"] = doc["fulfillments"] + [{
            "id": len(doc["fulfillments"]) + 1, "status": "success", "created_at": clock.stamp(conn, SYSTEM),
            "tracking_company": rest.text(data, "tracking_company", required=False),
            "tracking_number": rest.text(data, "tracking_number", required=False), "line_items": shipped}]
        row, ids = _save(conn, row, doc, "shipped" if complete else "partially_shipped", ("orders/updated",))
        response = _keyed(conn, data, row, 201)
    _send(ids)
    return response


@bp.post("/api/orders/<int:order_id>/returns")
def create_return(order_id):
    """Request a return of fulfilled items; subscribers get returns/create with the return and the order."""
    data = unwrap(rest.body(), "return")
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data)
        if replayed is not None:
            return replayed
        row = _order(conn, order_id)
        if row["status"] not in ("shipped", "partially_shipped", "return_requested"):
            raise Problem(409, "invalid_transition", f"An order that is {row['status']} has nothing to return.")
        doc = dict(row["doc"])
        lines = []
        for index, raw in enumerate(rest.items(data, "line_items")):
            where = f"line_items[{index}]"
            line = _line(doc, raw, where)
            quantity = rest.integer(raw, "quantity", minimum=1, at=where)
            returned = sum(l["quantity"] for r in doc["returns"] for l in r["line_items"] if l["id"] == line["id"])
            if returned + quantity > line["fulfilled_quantity"]:
                raise Problem(422, "over_returned", f"only {line['fulfilled_quantity'] - returned} of {line['sku']} "
                              "can be returned.", where + ".quantity")
            lines.append({"id": line["id"], "sku": line["sku"], "quantity": quantity,
                          "return_reason": rest.text(raw, "return_reason", required=False, default="other", at=where)})
        number = store.next_number(conn, "oms.return", 1001)
        rma = {"id": number, "name": f"RMA-{number}", "status": "requested", "order_id": row["id"],
               "order_name": row["name"], "created_at": clock.stamp(conn, SYSTEM), "line_items": lines}
        doc["returns"] = doc["returns"] + [rma]
        row, ids = _save(conn, row, doc, "return_requested", ("orders/updated",))
        ids += webhooks.record(conn, "returns/create", {**rma, "order": _order_json(row)})
        response = _keyed(conn, data, row, 201)
    _send(ids)
    return response


@bp.post("/api/orders/<int:order_id>/refunds")
def create_refund(order_id):
    data = unwrap(rest.body() if request.content_length else {}, "refund")
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data)
        if replayed is not None:
            return replayed
        row = _order(conn, order_id)
        _move(row, "refunded")
        doc = dict(row["doc"], financial_status="refunded")
        doc["refunds"] = doc["refunds"] + [{"id": len(doc["refunds"]) + 1, "created_at": clock.stamp(conn, SYSTEM),
                                            "note": rest.text(data, "note", required=False),
                                            "amount": rest.number(data, "amount", required=False)}]
        row, ids = _save(conn, row, doc, "refunded", ("orders/updated",))
        response = _keyed(conn, data, row, 201)
    _send(ids)
    return response
