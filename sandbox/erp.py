"""The simulated ERP (Business Central-like) at /erp/api, master data: customers with credit limits and
balances, items with units of measure, availability per location and the item journal. Sales documents are in
erp_sales. Lists page with OData's $top/$skip and @odata.nextLink; records carry @odata.etag.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import bindparam, func, select, update

from sandbox import admin, erp_orders, rest, store
from sandbox.rest import Problem
from sandbox.seed import LOCATION

bp = Blueprint("erp", __name__)
SYSTEM = "erp"
admin.add_routes(bp, SYSTEM)


def render_problem(problem: Problem) -> dict:
    error = {"code": problem.code, "message": problem.message}
    if problem.field:
        error["target"] = problem.field
    return {"error": error}


def odata_page(conn, query, shape):
    top, skip = rest.query_int("$top", 100, 1, 1000), rest.query_int("$skip", 0, 0, 10**9)
    page = rest.page(conn, query, skip, top)
    result = {"@odata.count": page.total, "value": [shape(row) for row in page.rows]}
    if page.more:
        args = {**request.args.to_dict(), "$top": top, "$skip": skip + top}
        result["@odata.nextLink"] = url_for(request.endpoint, _external=True, **(request.view_args or {}), **args)
    return jsonify(result)


# Customers and items

def _customer_json(row) -> dict:
    return {"number": row["no"], "displayName": row["name"], "creditLimit": row["credit_limit"],
            "balance": row["balance"], "blocked": "All" if row["blocked"] else " ", **row["doc"],
            "@odata.etag": f'W/"{row["version"]}"', "version": row["version"]}


_CUSTOMER = select(store.erp_customers).where(store.erp_customers.c.no == bindparam("no"))  # built once


def customer(conn, no: str, status: int = 404):
    row = conn.execute(_CUSTOMER, {"no": no}).mappings().first()
    if row is None:
        raise Problem(status, "customer_not_found",
                      f"The Customer does not exist. Identification fields and values: No.='{no}'", "customerNo")
    return row


@bp.get("/api/customers")
def list_customers():
    with store.transaction(rest.engine()) as conn:
        return odata_page(conn, select(store.erp_customers).order_by(store.erp_customers.c.no), _customer_json)


@bp.get("/api/customers/<no>")
def get_customer(no):
    with store.transaction(rest.engine()) as conn:
        row = customer(conn, no)
        return rest.with_etag(_customer_json(row), row["version"])


@bp.patch("/api/customers/<no>")
def patch_customer(no):
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        row = customer(conn, no)
        rest.check_if_match(row["version"])
        values = {"version": row["version"] + 1}
        if "creditLimit" in data:
            values["credit_limit"] = rest.number(data, "creditLimit")
        if "balance" in data:
            values["balance"] = rest.number(data, "balance")
        if "blocked" in data:
            # Business Central spells it "All" or " "; a boolean is accepted too.
            blocked = {"All": True, " ": False, "": False}.get(data["blocked"], data["blocked"])
            if not isinstance(blocked, bool):
                raise Problem(422, "invalid_field", "'blocked' must be \"All\", \" \", true or false.", "blocked")
            values["blocked"] = blocked
        conn.execute(update(store.erp_customers).where(store.erp_customers.c.no == no).values(**values))
        row = customer(conn, no)
        return rest.with_etag(_customer_json(row), row["version"])


def _items():
    """Items with their inventory over all locations in the base unit, as Business Central's items API has it."""
    stock = store.erp_item_stock
    inventory = (select(func.coalesce(func.sum(stock.c.inventory), 0)).where(stock.c.item_no == store.erp_items.c.no)
                 .scalar_subquery())
    return select(store.erp_items, inventory.label("inventory"))


def _item_json(row) -> dict:
    return {"number": row["no"], "displayName": row["description"], "baseUnitOfMeasureCode": row["base_uom"],
            "unitPrice": row["unit_price"], "netWeight": row["weight_kg"], "inventory": row["inventory"],
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
        return odata_page(conn, _items().order_by(store.erp_items.c.no), _item_json)


@bp.get("/api/items/<no>")
def get_item(no):
    with store.transaction(rest.engine()) as conn:
        row = conn.execute(_items().where(store.erp_items.c.no == no)).mappings().first()
        if row is None:
            raise Problem(404, "item_not_found", erp_orders.missing_item(no))
        return rest.with_etag(_item_json(row), row["version"])


@bp.get("/api/items/<no>/availability")
def get_availability(no):
    with store.transaction(rest.engine()) as conn:
        if conn.execute(select(store.erp_items.c.no).where(store.erp_items.c.no == no)).first() is None:
            raise Problem(404, "item_not_found", erp_orders.missing_item(no))
        return jsonify(_availability(conn, no))


ENTRY_TYPES = {"positiveadjmt": "Positive Adjmt.", "negativeadjmt": "Negative Adjmt.",
               "physicalinventory": "Physical Inventory"}


@bp.post("/api/item-journal")
def post_item_journal():
    """Post one item journal line: an adjustment, or a physical count that posts the difference; an
    Idempotency-Key posts it once."""
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data)
        if replayed is not None:
            return replayed
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
        response = jsonify({"itemNo": item["no"], "locationCode": location, "entryType": entry_type,
                            "quantity": delta, "documentNo": document_no,
                            "availability": _availability(conn, item["no"])})
        response.status_code = 201
        rest.remember(conn, SYSTEM, data, response)
        return response


@bp.get("/api/item-ledger-entries")
def list_item_ledger():
    ledger = store.erp_item_ledger
    query = select(ledger).order_by(ledger.c.entry_no)
    if request.args.get("itemNo"):
        query = query.where(ledger.c.item_no == request.args["itemNo"])
    with store.transaction(rest.engine()) as conn:
        return odata_page(conn, query, lambda r: {
            "entryNo": r["entry_no"], "itemNo": r["item_no"], "locationCode": r["location_code"],
            "entryType": r["entry_type"], "quantity": r["quantity"], "documentNo": r["document_no"],
            "postingDate": r["posted_at"]})
