"""The second simulated ERP, shaped like NetSuite's REST record API, at /netsuite/api/record/v1 (the sandbox's
/netsuite/api stands for an account's .../services/rest): customers, inventory items with their location, and
sales orders upserted by externalId (PUT salesOrder/eid:...), approved (orderStatus B) after a credit check that
commits stock and backorders the rest. Writes answer 204 with a Location; the same body again changes nothing.
Collections page with limit/offset, hasMore and links, and carry their records whole (the real API lists links
and ids only, to be read one by one). Errors are o:errorDetails.
"""
from __future__ import annotations

import math
import re

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import select, update

from sandbox import admin, clock, rest, store
from sandbox.rest import Problem
from sandbox.seed import LOCATION, UOMS

bp = Blueprint("netsuite", __name__)
SYSTEM = "netsuite"
admin.add_routes(bp, SYSTEM)
API = "/api/record/v1"
STATUS_NAMES = {"A": "Pending Approval", "B": "Pending Fulfillment", "C": "Cancelled"}
OPEN = ("A", "B")
QUERY = re.compile(r'^\s*externalId\s+IS\s+"?([^"]*)"?\s*$', re.I)


def render_problem(problem: Problem) -> dict:
    detail = {"detail": problem.message, "o:errorCode": problem.code.upper()}
    if problem.field:
        detail["o:errorPath"] = problem.field
    return {"type": f"https://www.rfc-editor.org/rfc/rfc9110.html#status.{problem.status}",
            "title": {400: "Bad Request", 404: "Not Found"}.get(problem.status, "Error"), "status": problem.status,
            "o:errorDetails": [detail]}


def _invalid(field: str, value) -> Problem:
    return Problem(400, "INVALID_CONTENT", "Error while accessing resource: You have entered an Invalid Field "
                   f"Value {value} for the following field: {field.rsplit('.', 1)[-1]}", field)


def _collection(conn, query, shape):
    limit, offset = rest.query_int("limit", 1000, 1, 1000), rest.query_int("offset", 0, 0, 10**9)
    page = rest.page(conn, query, offset, limit)
    links = [{"rel": "self", "href": request.url}]
    if page.more:
        args = {**request.args.to_dict(), "limit": limit, "offset": offset + limit}
        links.append({"rel": "next", "href": url_for(request.endpoint, _external=True, **args)})
    return jsonify({"links": links, "count": len(page.rows), "hasMore": page.more, "items": [
        shape(conn, row) for row in page.rows], "offset": offset, "totalResults": page.total})


def _by_key(conn, table, key: str, external):
    """A record by internal id or by `eid:<externalId>`, as every record URL takes either."""
    column = table.c.id
    if key.startswith("eid:"):
        column, key = external, key[4:]
    elif not key.isdigit():
        raise Problem(404, "NONEXISTENT_ID", f"The record instance does not exist. Provide a valid record id ({key}).")
    row = conn.execute(select(table).where(column == (key if column is external else int(key)))).mappings().first()
    if row is None:
        raise Problem(404, "NONEXISTENT_ID", f"The record instance does not exist. Provide a valid record id ({key}).")
    return row


def _self(endpoint: str, key) -> list[dict]:
    return [{"rel": "self", "href": url_for(endpoint, key=str(key), _external=True)}]


# Customers and items

def _customer_json(_conn, row) -> dict:
    return {"links": _self(".get_customer", row["id"]), "id": str(row["id"]), "externalId": row["entity_id"],
            "entityId": row["entity_id"], "companyName": row["company_name"], "creditLimit": row["credit_limit"],
            "balance": row["balance"]}


@bp.get(f"{API}/customer")
def list_customers():
    with store.transaction(rest.engine()) as conn:
        return _collection(conn, select(store.netsuite_customers).order_by(store.netsuite_customers.c.id),
                           _customer_json)


@bp.get(f"{API}/customer/<key>")
def get_customer(key):
    with store.transaction(rest.engine()) as conn:
        customers = store.netsuite_customers
        return jsonify(_customer_json(conn, _by_key(conn, customers, key, customers.c.entity_id)))


def _item_json(_conn, row) -> dict:
    available = row["on_hand"] - row["committed"]
    return {"links": _self(".get_item", row["id"]), "id": str(row["id"]), "externalId": row["item_id"],
            "itemId": row["item_id"], "displayName": row["display_name"], "basePrice": row["base_price"],
            "weight": row["weight"], "weightUnit": "kg", "stockUnit": {"refName": "EA"},
            "totalQuantityOnHand": row["on_hand"],
            "locations": {"count": 1, "hasMore": False, "offset": 0, "totalResults": 1, "items": [
                {"location": {"id": "1", "refName": LOCATION}, "quantityOnHand": row["on_hand"],
                 "quantityCommitted": row["committed"], "quantityAvailable": max(0, available),
                 "quantityBackOrdered": max(0, -available)}]}}


@bp.get(f"{API}/inventoryItem")
def list_items():
    with store.transaction(rest.engine()) as conn:
        return _collection(conn, select(store.netsuite_items).order_by(store.netsuite_items.c.id), _item_json)


@bp.get(f"{API}/inventoryItem/<key>")
def get_item(key):
    with store.transaction(rest.engine()) as conn:
        return jsonify(_item_json(conn, _by_key(conn, store.netsuite_items, key, store.netsuite_items.c.item_id)))


# Sales orders

def _order_json(_conn, row) -> dict:
    doc = row["doc"]
    return {"links": _self(".get_sales_order", row["id"]), "id": str(row["id"]), **doc,
            "orderStatus": {"id": row["status"], "refName": STATUS_NAMES.get(row["status"], row["status"])},
            "createdDate": row["created_at"], "lastModifiedDate": row["updated_at"],
            "item": {"links": [], "count": len(doc["lines"]), "hasMore": False, "offset": 0,
                     "totalResults": len(doc["lines"]), "items": doc["lines"]}}


@bp.get(f"{API}/salesOrder")
def list_sales_orders():
    orders = store.netsuite_sales_orders
    query = select(orders).order_by(orders.c.id)
    if request.args.get("q"):
        match = QUERY.match(request.args["q"])
        if match is None:
            raise Problem(400, "INVALID_PARAMETER", "Invalid query: only 'externalId IS \"...\"' is supported "
                          "here.", "q")
        query = query.where(orders.c.external_id == match.group(1))
    with store.transaction(rest.engine()) as conn:
        return _collection(conn, query, _order_json)


@bp.get(f"{API}/salesOrder/<key>")
def get_sales_order(key):
    with store.transaction(rest.engine()) as conn:
        orders = store.netsuite_sales_orders
        return jsonify(_order_json(conn, _by_key(conn, orders, key, orders.c.external_id)))


def _written(row_id: int):
    response = jsonify()
    response.status_code, response.data = 204, b""
    response.headers["Location"] = url_for(".get_sales_order", key=str(row_id), _external=True)
    return response


@bp.put(f"{API}/salesOrder/<key>")
def upsert_sales_order(key):
    """Create or replace by externalId while nothing is fulfilled; the same body again changes nothing."""
    if not key.startswith("eid:"):
        raise Problem(400, "INVALID_PARAMETER", "Upsert needs an external id in the URL (eid:...).", "id")
    data, external_id = rest.body(), key[4:]
    if data.get("externalId") not in (None, external_id):
        raise _invalid("externalId", data["externalId"])
    orders = store.netsuite_sales_orders
    with store.transaction(rest.engine()) as conn:
        fingerprint = rest.request_hash(data)
        existing = conn.execute(select(orders).where(orders.c.external_id == external_id)).mappings().first()
        if existing is not None and existing["request_hash"] == fingerprint:
            return _written(existing["id"])
        customer = _customer(conn, data.get("entity"))
        lines = _lines(conn, data)
        if existing is not None:
            if existing["status"] not in OPEN or any(l["quantityFulfilled"] for l in existing["doc"]["lines"]):
                raise Problem(400, "INVALID_OPERATION", f"Sales order {existing['doc']['tranId']} is fulfilled, "
                              "billed or closed and can no longer be changed.", "externalId")
            _uncommit(conn, existing["doc"]["lines"])
        now = clock.stamp(conn, SYSTEM)
        row_id = existing["id"] if existing is not None else store.next_number(conn, "netsuite.record", 7001)
        doc = {"externalId": external_id, "tranId": f"SO{row_id}", "tranDate": _date(data.get("tranDate"), now),
               "entity": {"id": str(customer["id"]), "refName": f"{customer['entity_id']} {customer['company_name']}"},
               "currency": {"refName": _ref(data, "currency").get("refName") or "USD"},
               "shipMethod": data.get("shipMethod"), "shippingAddress": data.get("shippingAddress"),
               "custbody_hold_reason": None, "custbody_credit_override": False,
               "total": round(sum(l["amount"] for l in lines), 2), "lines": lines}
        wanted = str(_ref(data, "orderStatus").get("id") or "A").upper()
        if wanted not in OPEN:
            raise _invalid("orderStatus", wanted)
        status = _approve(conn, customer, row_id, doc) if wanted == "B" else "A"
        values = dict(status=status, request_hash=fingerprint, doc=doc, customer_id=customer["id"], updated_at=now)
        if existing is None:
            conn.execute(orders.insert().values(id=row_id, external_id=external_id, version=1, created_at=now,
                                                **values))
        else:
            conn.execute(update(orders).where(orders.c.id == row_id).values(version=existing["version"] + 1,
                                                                             **values))
        return _written(row_id)


@bp.patch(f"{API}/salesOrder/<key>")
def patch_sales_order(key):
    """Approve (orderStatus B, credit check) and set the credit override; approving twice changes nothing."""
    data = rest.body()
    unknown = set(data) - {"orderStatus", "custbody_credit_override", "memo"}
    if unknown:
        raise _invalid(sorted(unknown)[0], "(not editable here)")
    orders = store.netsuite_sales_orders
    with store.transaction(rest.engine()) as conn:
        row = _by_key(conn, orders, key, orders.c.external_id)
        doc = dict(row["doc"])
        if data.get("custbody_credit_override") is True:
            doc["custbody_credit_override"] = True
        if "memo" in data:
            doc["memo"] = rest.text(data, "memo", required=False)
        status = row["status"]
        wanted = str(_ref(data, "orderStatus").get("id") or status).upper()
        if wanted != status:
            if (status, wanted) != ("A", "B"):
                raise Problem(400, "INVALID_OPERATION", f"A sales order in status {status} cannot move to "
                              f"{wanted}.", "orderStatus")
            customer = conn.execute(select(store.netsuite_customers).where(
                store.netsuite_customers.c.id == row["customer_id"])).mappings().one()
            status = _approve(conn, customer, row["id"], doc)
        conn.execute(update(orders).where(orders.c.id == row["id"]).values(
            status=status, doc=doc, version=row["version"] + 1, updated_at=clock.stamp(conn, SYSTEM)))
        return _written(row["id"])


def _ref(data: dict, name: str) -> dict:
    """A record reference field ({"id"}, {"externalId"}, {"refName"}); absent is empty."""
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid(name, value)
    return value


def _date(value, now: str) -> str:
    if value is None:
        return now[:10]
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise _invalid("tranDate", value)
    return value[:10]


def _customer(conn, ref):
    if not isinstance(ref, dict) or not (ref.get("id") or ref.get("externalId")):
        raise Problem(400, "USER_ERROR", "Please enter value(s) for: Customer", "entity")
    customers = store.netsuite_customers
    column, value = ((customers.c.id, int(ref["id"])) if str(ref.get("id", "")).isdigit()
                     else (customers.c.entity_id, str(ref.get("externalId") or ref.get("id"))))
    row = conn.execute(select(customers).where(column == value)).mappings().first()
    if row is None:
        raise _invalid("entity", value)
    return row


def _lines(conn, data: dict) -> list[dict]:
    raw_lines = (data.get("item") or {}).get("items") if isinstance(data.get("item"), dict) else None
    if not isinstance(raw_lines, list) or not raw_lines or not all(isinstance(l, dict) for l in raw_lines):
        raise Problem(400, "USER_ERROR", "You must enter at least one line item for this transaction.", "item")
    lines = []
    for index, raw in enumerate(raw_lines):
        at = f"item.items[{index}]"
        ref = raw.get("item") if isinstance(raw.get("item"), dict) else {}
        key = ref.get("externalId") or ref.get("id")
        items = store.netsuite_items
        column = items.c.id if str(key).isdigit() and not ref.get("externalId") else items.c.item_id
        item = conn.execute(select(items).where(column == (int(key) if column is items.c.id else str(key)))
                            ).mappings().first()
        if item is None:
            raise _invalid(at + ".item", key)
        quantity = rest.integer(raw, "quantity", minimum=1, at=at)
        units = str(raw.get("units") or "EA").upper()
        if units not in UOMS:
            raise _invalid(at + ".units", units)
        rate = rest.number(raw, "rate", required=False, at=at)
        rate = round(item["base_price"] * UOMS[units], 2) if rate is None else rate
        amount = rest.number(raw, "amount", required=False, at=at)
        lines.append({"line": index + 1, "item": {"id": str(item["id"]), "refName": item["item_id"]},
                      "description": item["display_name"], "quantity": quantity, "units": units,
                      "unitConversionRate": UOMS[units], "rate": rate,
                      "amount": round(quantity * rate, 2) if amount is None else amount,
                      "quantityCommitted": 0, "quantityBackOrdered": 0, "quantityFulfilled": 0,
                      "custcol_source_line": raw.get("custcol_source_line")})
    return lines


def _approve(conn, customer, order_id: int, doc: dict) -> str:
    """B when the customer's open balance, approved orders and this one stay within the credit limit (or the
    order's override is set), committing stock; else A, held for credit."""
    orders = store.netsuite_sales_orders
    approved = conn.execute(select(orders.c.doc).where(orders.c.customer_id == customer["id"], orders.c.status == "B",
                                                       orders.c.id != order_id)).scalars()
    exposure = customer["balance"] + sum(d["total"] for d in approved) + doc["total"]
    if round(exposure, 2) > customer["credit_limit"] and not doc.get("custbody_credit_override"):
        doc["custbody_hold_reason"] = "CREDIT"
        return "A"
    doc["custbody_hold_reason"] = None
    for line in doc["lines"]:
        item = conn.execute(select(store.netsuite_items).where(
            store.netsuite_items.c.item_id == line["item"]["refName"])).mappings().one()
        available = max(0, item["on_hand"] - item["committed"])
        committed = min(line["quantity"], math.floor(available / line["unitConversionRate"]))
        line["quantityCommitted"], line["quantityBackOrdered"] = committed, line["quantity"] - committed
        _commit(conn, item["id"], committed * line["unitConversionRate"])
    return "B"


def _uncommit(conn, lines: list[dict]) -> None:
    for line in lines:
        if line["quantityCommitted"]:
            _commit(conn, int(line["item"]["id"]), -line["quantityCommitted"] * line["unitConversionRate"])


def _commit(conn, item_id: int, quantity: int) -> None:
    items = store.netsuite_items
    conn.execute(update(items).where(items.c.id == item_id).values(committed=items.c.committed + quantity))
