"""The simulated OMS's catalogue at /oms/api: products, customers, inventory levels (set, and adjust with an
Idempotency-Key), webhook subscriptions and their deliveries; and the OMS's body and paging conventions, which
its orders (sandbox.oms) share.
"""
from __future__ import annotations

import base64

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import select, update

from sandbox import clock, rest, store, webhooks
from sandbox.rest import Problem
from sandbox.seed import OMS_LOCATION_ID

bp = Blueprint("oms_catalog", __name__)
SYSTEM = "oms"


def unwrap(data: dict, key: str) -> dict:
    """Shopify wraps bodies ({"order": {...}}); bare objects are accepted too."""
    inner = data.get(key, data)
    if not isinstance(inner, dict):
        raise Problem(422, "invalid_body", f"'{key}' must be an object.", key)
    return inner


def page(conn, table, key: str, shape, *filters):
    """Shopify-like paging: ?limit= with an opaque page_info cursor in the Link header; since_id also works."""
    limit, since_id = rest.query_int("limit", 50, 1, 250), rest.query_int("since_id", 0, 0, 10**15)
    cursor = request.args.get("page_info", "")
    try:
        if not cursor.replace("-", "").replace("_", "").isalnum() and cursor:
            raise ValueError(cursor)
        offset = int(base64.urlsafe_b64decode(cursor + "==").decode() or 0)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "invalid_page_info", "page_info is not a cursor this API returned.", "page_info") from None
    query = select(table).where(*filters).order_by(*table.primary_key.columns)
    if since_id and "id" in table.c:
        query = query.where(table.c.id > since_id)
    page = rest.page(conn, query, max(0, offset), limit)
    response = jsonify({key: [shape(r) for r in page.rows]})
    if page.more:
        cursor = base64.urlsafe_b64encode(str(offset + limit).encode()).decode().rstrip("=")
        args = {**request.args.to_dict(), "limit": limit, "page_info": cursor}
        response.headers["Link"] = f'<{url_for(request.endpoint, _external=True, **args)}>; rel="next"'
    return response


# Catalogue, customers, inventory levels

@bp.get("/api/products")
def list_products():
    with store.transaction(rest.engine()) as conn:
        return page(conn, store.oms_products, "products", lambda r: r["doc"])


@bp.get("/api/customers")
def list_customers():
    with store.transaction(rest.engine()) as conn:
        return page(conn, store.oms_customers, "customers", lambda r: r["doc"])


def _level_json(r) -> dict:
    return {"sku": r["sku"], "location_id": r["location_id"], "available": r["available"],
            "updated_at": r["updated_at"]}


@bp.get("/api/inventory_levels")
def list_inventory_levels():
    levels = store.oms_inventory_levels
    filters = [levels.c.sku == request.args["sku"]] if request.args.get("sku") else []
    with store.transaction(rest.engine()) as conn:
        return page(conn, levels, "inventory_levels", _level_json, *filters)


@bp.post("/api/inventory_levels/<any(set, adjust):action>")
def change_inventory_level(action):
    """set: {"sku", "location_id", "available"}; adjust: {"sku", "location_id", "available_adjustment"}."""
    data = rest.body()
    levels = store.oms_inventory_levels
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data) if action == "adjust" else None  # a set is idempotent by nature
        if replayed is not None:
            return replayed
        sku = rest.text(data, "sku")
        location_id = rest.integer(data, "location_id", required=False, default=OMS_LOCATION_ID)
        row = conn.execute(select(levels).where(levels.c.sku == sku, levels.c.location_id == location_id)
                           ).mappings().first()
        if row is None:
            raise Problem(422, "invalid_sku", f"sku {sku} is not stocked at location {location_id}.", "sku")
        if action == "set":
            available = rest.integer(data, "available")
        else:
            available = row["available"] + rest.integer(data, "available_adjustment")
        conn.execute(update(levels).where(levels.c.sku == sku, levels.c.location_id == location_id).values(
            available=available, updated_at=clock.stamp(conn, SYSTEM)))
        row = conn.execute(select(levels).where(levels.c.sku == sku, levels.c.location_id == location_id)
                           ).mappings().first()
        response = jsonify({"inventory_level": _level_json(row)})
        if action == "adjust":
            rest.remember(conn, SYSTEM, data, response)
        return response


# Webhook subscriptions and their deliveries

def _subscription_json(r) -> dict:
    return {"id": r["id"], "topic": r["topic"], "address": r["address"], "created_at": r["created_at"]}


@bp.post("/api/webhook-subscriptions")
def subscribe():
    data = unwrap(rest.body(), "webhook")
    topic, address = rest.text(data, "topic"), rest.text(data, "address")
    if topic not in webhooks.TOPICS:
        raise Problem(422, "invalid_topic", f"topic must be one of {', '.join(webhooks.TOPICS)}.", "topic")
    if not address.startswith(("http://", "https://")):
        raise Problem(422, "invalid_address", "address must be an http(s) URL.", "address")
    subs = store.oms_webhook_subscriptions
    with store.transaction(rest.engine()) as conn:
        replayed = rest.replay(conn, SYSTEM, data)
        if replayed is not None:
            return replayed
        if conn.execute(select(subs.c.id).where(subs.c.topic == topic, subs.c.address == address)).first():
            raise Problem(422, "taken", "address for this topic has already been taken", "address")
        sub_id = conn.execute(subs.insert().values(
            topic=topic, address=address, secret=rest.text(data, "secret", required=False, default="sandbox-secret"),
            created_at=clock.stamp(conn, SYSTEM))).inserted_primary_key[0]
        row = conn.execute(select(subs).where(subs.c.id == sub_id)).mappings().first()
        response = jsonify({"webhook": _subscription_json(row)})
        response.status_code = 201
        rest.remember(conn, SYSTEM, data, response)
        return response


@bp.get("/api/webhook-subscriptions")
def list_subscriptions():
    with store.transaction(rest.engine()) as conn:
        return page(conn, store.oms_webhook_subscriptions, "webhooks", _subscription_json)


@bp.delete("/api/webhook-subscriptions/<int:sub_id>")
def unsubscribe(sub_id):
    subs = store.oms_webhook_subscriptions
    with store.transaction(rest.engine()) as conn:
        if conn.execute(subs.delete().where(subs.c.id == sub_id)).rowcount == 0:
            raise Problem(404, "not_found", "Not Found")
        return "", 204


@bp.get("/api/webhook-deliveries")
def list_deliveries():
    deliveries = store.oms_webhook_deliveries
    filters = [getattr(deliveries.c, arg) == request.args[arg] for arg in ("status", "topic") if request.args.get(arg)]
    with store.transaction(rest.engine()) as conn:
        return page(conn, deliveries, "deliveries", lambda r: {
            "id": r["id"], "subscription_id": r["subscription_id"], "topic": r["topic"], "address": r["address"],
            "status": r["status"], "attempts": r["attempts"], "response_status": r["response_status"],
            "last_error": r["last_error"], "created_at": r["created_at"], "delivered_at": r["delivered_at"]},
            *filters)
