"""The simulated WMS's outbound side (Manhattan-like) at /wms/api: shipping orders allocated on arrival and
assigned to the day's wave before the warehouse's cutoff (sandbox clock, UTC) or to the next day's after it;
pick confirmation with short picks; ship confirmation in parcels, possibly partial.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import bindparam, func, select, update

from sandbox import admin, clock, rest, store
from sandbox.rest import Problem
from sandbox.seed import WAREHOUSE
from sandbox.wms_inventory import move, page_response, stock

bp = Blueprint("wms", __name__)
SYSTEM = "wms"
admin.add_routes(bp, SYSTEM)

STATUS = {20: "Allocated", 25: "PartiallyAllocated", 30: "Picked", 35: "PartiallyShipped", 40: "Shipped",
          90: "Cancelled"}
PICKABLE, SHIPPABLE = (20, 25), (20, 25, 30, 35)


_WAREHOUSE = select(store.wms_warehouses).where(store.wms_warehouses.c.warehouse_id == bindparam("id"))  # built once
_NUMBERED = select(store.wms_shipping_orders.c.id).where(
    store.wms_shipping_orders.c.order_number == bindparam("number"))
_WAVE = select(store.wms_waves.c.wave_id).where(store.wms_waves.c.wave_id == bindparam("id"))


def _warehouse(conn, warehouse_id: str, status: int = 404):
    row = conn.execute(_WAREHOUSE, {"id": warehouse_id}).mappings().first()
    if row is None:
        raise Problem(status, "warehouse_not_found", f"Warehouse {warehouse_id} does not exist.", "warehouseId")
    return row


@bp.get("/api/warehouses")
def list_warehouses():
    with store.transaction(rest.engine()) as conn:
        return page_response(conn, select(store.wms_warehouses).order_by(store.wms_warehouses.c.warehouse_id),
                             lambda r: {"warehouseId": r["warehouse_id"], "name": r["name"],
                                        "cutoffTime": r["cutoff_time"], "timeZone": "UTC"})


@bp.patch("/api/warehouses/<warehouse_id>")
def patch_warehouse(warehouse_id):
    data = rest.body()
    cutoff = rest.text(data, "cutoffTime")
    try:
        time.fromisoformat(cutoff)
    except ValueError:
        raise Problem(422, "invalid_field", "'cutoffTime' must be HH:MM.", "cutoffTime") from None
    with store.transaction(rest.engine()) as conn:
        _warehouse(conn, warehouse_id)
        conn.execute(update(store.wms_warehouses).where(store.wms_warehouses.c.warehouse_id == warehouse_id)
                     .values(cutoff_time=cutoff))
        return jsonify({"success": True, "data": {"warehouseId": warehouse_id, "cutoffTime": cutoff}})


def _wave_for(conn, warehouse) -> str:
    """Orders in before the cutoff join today's wave; later ones the next day's."""
    now = clock.now(conn, SYSTEM)
    cutoff = time.fromisoformat(warehouse["cutoff_time"])
    day = now.date() if now.time() < cutoff else now.date() + timedelta(days=1)
    wave_id = f"WV-{warehouse['warehouse_id']}-{day:%Y%m%d}"
    if conn.execute(_WAVE, {"id": wave_id}).first() is None:
        conn.execute(store.wms_waves.insert().values(
            wave_id=wave_id, warehouse_id=warehouse["warehouse_id"], wave_date=day.isoformat(),
            cutoff_at=datetime.combine(day, cutoff).isoformat() + "Z", status="Open"))
    return wave_id


@bp.get("/api/waves")
def list_waves():
    waves = store.wms_waves
    with store.transaction(rest.engine()) as conn:
        return page_response(conn, select(waves).order_by(waves.c.wave_date, waves.c.wave_id), lambda r: {
            "waveId": r["wave_id"], "warehouseId": r["warehouse_id"], "waveDate": r["wave_date"],
            "cutoffAt": r["cutoff_at"], "status": r["status"], "orderCount": conn.execute(
                select(func.count()).select_from(store.wms_shipping_orders)
                .where(store.wms_shipping_orders.c.wave_id == r["wave_id"])).scalar()})


# Shipping orders

def _order_json(row) -> dict:
    return {"id": row["id"], "orderNumber": row["order_number"], "warehouseId": row["warehouse_id"],
            "waveId": row["wave_id"], "statusCode": row["status_code"], "status": STATUS[row["status_code"]],
            **row["doc"], "recordVersion": row["version"], "createdAt": row["created_at"],
            "updatedAt": row["updated_at"]}


def _order(conn, order_id: str):
    row = conn.execute(select(store.wms_shipping_orders).where(
        store.wms_shipping_orders.c.id == order_id)).mappings().first()
    if row is None:
        raise Problem(404, "order_not_found", f"Shipping order {order_id} does not exist.")
    return row


def _save(conn, row, doc: dict, status_code: int):
    """Write the order's new state; returns the row as stored (not read back)."""
    values = dict(doc=doc, status_code=status_code, version=row["version"] + 1, updated_at=clock.stamp(conn, SYSTEM))
    conn.execute(update(store.wms_shipping_orders).where(store.wms_shipping_orders.c.id == row["id"]).values(**values))
    return {**row, **values}


def _respond(row, status: int = 200):
    return rest.with_etag({"success": True, "data": _order_json(row)}, row["version"], status=status)


@bp.post("/api/shipping-orders")
def create_shipping_order():
    """Allocate what is on hand now (the rest is short-allocated) and assign the wave by the cutoff."""
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        number = rest.text(data, "orderNumber")
        warehouse = _warehouse(conn, rest.text(data, "warehouseId", required=False, default=WAREHOUSE), status=422)
        existing = conn.execute(_NUMBERED, {"number": number}).scalar()
        if existing:
            raise Problem(409, "duplicate_order", f"Order {number} already exists as shipping order {existing}.",
                          "orderNumber", existing=existing)
        lines = []
        for index, raw in enumerate(rest.items(data, "lines")):
            where = f"lines[{index}]"
            uom = (rest.text(raw, "uom", required=False, at=where) or "EA").upper()
            if uom != "EA":
                raise Problem(422, "invalid_uom", "The WMS handles eaches only: send 'uom': 'EA'.", where + ".uom")
            item = stock(conn, rest.text(raw, "itemId", at=where), warehouse["warehouse_id"], 422, where + ".itemId")
            ordered = rest.integer(raw, "orderedQty", minimum=1, at=where)
            allocated = max(0, min(ordered, item["on_hand"] - item["allocated"]))
            move(conn, item["item_id"], warehouse["warehouse_id"], 0, allocated, "ALLOCATE", number)
            line_number = rest.integer(raw, "lineNumber", required=False, minimum=1, at=where)
            lines.append({"lineNumber": line_number or index + 1,
                          "itemId": item["item_id"], "orderedQty": ordered, "allocatedQty": allocated,
                          "pickedQty": None, "shortPickedQty": 0, "shippedQty": 0, "uom": "EA"})
        ship_to = data.get("shipTo") or {}
        if not isinstance(ship_to, dict):
            raise Problem(422, "invalid_field", "'shipTo' must be an object.", "shipTo")
        order_id = f"WO{store.next_number(conn, 'wms.shipping_order', 100001)}"
        stamp = clock.stamp(conn, SYSTEM)
        doc = {"shipTo": ship_to, "carrierCode": rest.text(data, "carrierCode", required=False),
               "serviceLevel": rest.text(data, "serviceLevel", required=False),
               "reference": rest.text(data, "reference", required=False), "lines": lines}
        status_code = 20 if all(l["allocatedQty"] == l["orderedQty"] for l in lines) else 25
        row = dict(id=order_id, order_number=number, warehouse_id=warehouse["warehouse_id"],
                   wave_id=_wave_for(conn, warehouse), status_code=status_code, doc=doc, version=1, created_at=stamp,
                   updated_at=stamp)
        conn.execute(store.wms_shipping_orders.insert(), row)
        return rest.with_etag({"success": True, "data": _order_json(row)}, 1, status=201,
                              location=url_for(".get_shipping_order", order_id=order_id))


_ORDER_FILTERS = (("orderNumber", store.wms_shipping_orders.c.order_number),
                  ("waveId", store.wms_shipping_orders.c.wave_id),
                  ("statusCode", store.wms_shipping_orders.c.status_code))
_ORDER_LISTS: dict[tuple[str, ...], rest.Listing] = {}  # the filters given -> their listing, built once


@bp.get("/api/shipping-orders")
def list_shipping_orders():
    given = tuple(arg for arg, _ in _ORDER_FILTERS if request.args.get(arg))
    listing = _ORDER_LISTS.get(given)
    if listing is None:
        query = select(store.wms_shipping_orders).order_by(store.wms_shipping_orders.c.id)
        for arg, column in _ORDER_FILTERS:
            if arg in given:
                query = query.where(column == bindparam(arg, type_=column.type))
        listing = _ORDER_LISTS[given] = rest.Listing(query)
    with store.transaction(rest.engine()) as conn:
        return page_response(conn, listing, _order_json, {arg: request.args[arg] for arg in given})


@bp.get("/api/shipping-orders/<order_id>")
def get_shipping_order(order_id):
    with store.transaction(rest.engine()) as conn:
        row = _order(conn, order_id)
        return rest.with_etag({"success": True, "data": _order_json(row)}, row["version"])


@bp.patch("/api/shipping-orders/<order_id>")
def patch_shipping_order(order_id):
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        row = _order(conn, order_id)
        rest.check_if_match(row["version"])
        if row["status_code"] not in PICKABLE:
            raise Problem(409, "invalid_status", f"Shipping order {order_id} is {STATUS[row['status_code']]}.")
        doc = dict(row["doc"])
        for name in ("carrierCode", "serviceLevel", "reference"):
            if name in data:
                doc[name] = rest.text(data, name, required=False)
        if "shipTo" in data:
            if not isinstance(data["shipTo"], dict):
                raise Problem(422, "invalid_field", "'shipTo' must be an object.", "shipTo")
            doc["shipTo"] = data["shipTo"]
        return _respond(_save(conn, row, doc, row["status_code"]))


@bp.post("/api/shipping-orders/<order_id>/pick-confirm")
def pick_confirm(order_id):
    """Confirm picking; listed lines may be short (the missing stock is written off), others are picked in full."""
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        row = _order(conn, order_id)
        if row["status_code"] not in PICKABLE:
            raise Problem(409, "invalid_status", f"Shipping order {order_id} is {STATUS[row['status_code']]}.")
        doc = dict(row["doc"])
        picks = {}
        for index, raw in enumerate(rest.items(data, "lines", required=False)):
            where = f"lines[{index}]"
            line = _line(doc, raw, where)
            picks[line["lineNumber"]] = (rest.integer(raw, "pickedQty", minimum=0, at=where),
                                         rest.text(raw, "shortReason", required=False, default="NOT_FOUND", at=where))
        for line in doc["lines"]:
            picked, reason = picks.get(line["lineNumber"], (line["allocatedQty"], None))
            if picked > line["allocatedQty"]:
                raise Problem(422, "over_pick", f"Line {line['lineNumber']}: only {line['allocatedQty']} allocated.",
                              "pickedQty")
            short = line["allocatedQty"] - picked
            line["pickedQty"], line["shortPickedQty"], line["shortReason"] = picked, short, reason if short else None
            if short:
                move(conn, line["itemId"], row["warehouse_id"], -short, -short, "SHORT_PICK", row["order_number"])
        return _respond(_save(conn, row, doc, 30))


@bp.post("/api/shipping-orders/<order_id>/ship-confirm")
def ship_confirm(order_id):
    """Ship parcels; what is picked (or allocated, when picking was not confirmed) and not shipped stays open."""
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        row = _order(conn, order_id)
        if row["status_code"] not in SHIPPABLE:
            raise Problem(409, "invalid_status", f"Shipping order {order_id} is {STATUS[row['status_code']]}.")
        doc = dict(row["doc"])
        shipment_id = f"SHP{store.next_number(conn, 'wms.shipment', 1):07d}"
        parcels = []
        for p_index, raw_parcel in enumerate(rest.items(data, "parcels")):
            contents = []
            for index, raw in enumerate(rest.items(raw_parcel, "lines")):
                where = f"parcels[{p_index}].lines[{index}]"
                line = _line(doc, raw, where)
                quantity = rest.integer(raw, "qty", minimum=1, at=where)
                if line["shippedQty"] + quantity > _shippable(line):
                    raise Problem(422, "over_ship", f"Line {line['lineNumber']}: only "
                                  f"{_shippable(line) - line['shippedQty']} can ship.", where + ".qty")
                line["shippedQty"] += quantity
                move(conn, line["itemId"], row["warehouse_id"], -quantity, -quantity, "SHIP", shipment_id)
                contents.append({"lineNumber": line["lineNumber"], "itemId": line["itemId"], "qty": quantity})
            at = f"parcels[{p_index}]"
            parcels.append({"parcelId": f"{shipment_id}-{p_index + 1}",
                            "trackingNumber": rest.text(raw_parcel, "trackingNumber", required=False, at=at),
                            "weightKg": rest.number(raw_parcel, "weightKg", required=False, at=at), "lines": contents})
        complete = all(l["shippedQty"] == _shippable(l) for l in doc["lines"])
        held = _holding(conn)
        shipment = {"shipmentId": shipment_id, "shippingOrderId": order_id, "orderNumber": row["order_number"],
                    "carrierCode": rest.text(data, "carrierCode", required=False) or doc.get("carrierCode"),
                    "shippedAt": clock.stamp(conn, SYSTEM), "orderComplete": complete, "parcels": parcels,
                    "confirmedAt": None if held else clock.stamp(conn, SYSTEM),
                    "lines": [{"lineNumber": l["lineNumber"], "itemId": l["itemId"], "orderedQty": l["orderedQty"],
                               "shippedQty": sum(c["qty"] for p in parcels for c in p["lines"]
                                                 if c["lineNumber"] == l["lineNumber"]),
                               "totalShippedQty": l["shippedQty"], "shortQty": l["orderedQty"] - _shippable(l)}
                              for l in doc["lines"]]}
        conn.execute(store.wms_shipments.insert().values(  # shipped_at: when the confirmation went out
            id=shipment_id, shipping_order_id=order_id, order_number=row["order_number"], doc=shipment,
            shipped_at=shipment["confirmedAt"]))
        _save(conn, row, doc, 40 if complete else 35)
        return jsonify({"success": True, "data": shipment}), 201


@bp.post("/api/shipping-orders/<order_id>/cancel")
def cancel(order_id):
    """Cancel what has not shipped; an order with shipped parcels is closed as shipped."""
    with store.transaction(rest.engine()) as conn:
        row = _order(conn, order_id)
        rest.check_if_match(row["version"])
        if row["status_code"] not in SHIPPABLE:
            raise Problem(409, "invalid_status", f"Shipping order {order_id} is {STATUS[row['status_code']]}.")
        doc = dict(row["doc"])
        for line in doc["lines"]:
            left = _shippable(line) - line["shippedQty"]
            if left:
                move(conn, line["itemId"], row["warehouse_id"], 0, -left, "DEALLOCATE", row["order_number"])
                line["cancelledQty"] = line.get("cancelledQty", 0) + left
        shipped = any(l["shippedQty"] for l in doc["lines"])
        return _respond(_save(conn, row, doc, 40 if shipped else 90))


def _shippable(line: dict) -> int:
    """What this line can ship in total: picked (or allocated before picking) less anything cancelled."""
    return (line["allocatedQty"] if line["pickedQty"] is None else line["pickedQty"]) - line.get("cancelledQty", 0)


def _line(doc: dict, raw: dict, where: str) -> dict:
    number = rest.integer(raw, "lineNumber", required=False, at=where)
    item_id = None if number is not None else rest.text(raw, "itemId", at=where)
    for line in doc["lines"]:
        if line["lineNumber"] == number or (item_id is not None and line["itemId"] == item_id):
            return line
    raise Problem(422, "line_not_found", f"No order line matches {where}.", where)


@bp.get("/api/shipments")
def list_shipments():
    """The shipment confirmations sent: a shipment whose confirmation is withheld is not among them yet."""
    shipments = store.wms_shipments
    query = select(shipments).where(shipments.c.shipped_at.is_not(None)).order_by(shipments.c.id)
    if request.args.get("orderNumber"):
        query = query.where(shipments.c.order_number == request.args["orderNumber"])
    with store.transaction(rest.engine()) as conn:
        return page_response(conn, query, lambda r: r["doc"])


# Test control: the WMS withholds its shipment confirmations (an outbound interface on hold). ship-confirm still ships
# (stock, order status), but the shipment stays out of GET shipments until the hold is lifted, when the withheld
# confirmations go out, stamped confirmedAt then. A counter row marks the hold, so a reset lifts it.
HOLD = SYSTEM + ".hold_confirmations"


def _holding(conn) -> bool:
    return conn.execute(select(store.counters.c.value).where(store.counters.c.name == HOLD)).scalar() is not None


@bp.route("/api/_hold_confirmations", methods=["GET", "POST"])
def hold_confirmations():
    """`{"hold": true}` withholds shipment confirmations, `{"hold": false}` sends the withheld ones."""
    shipments = store.wms_shipments
    with store.transaction(rest.engine()) as conn:
        if request.method == "POST":
            hold = rest.body().get("hold")
            if not isinstance(hold, bool):
                raise Problem(422, "invalid_field", "'hold' must be true or false.", "hold")
            if hold and not _holding(conn):
                conn.execute(store.counters.insert().values(name=HOLD, value=1))
            elif not hold:
                conn.execute(store.counters.delete().where(store.counters.c.name == HOLD))
                now = clock.stamp(conn, SYSTEM)
                for row in conn.execute(select(shipments).where(shipments.c.shipped_at.is_(None))).mappings().all():
                    conn.execute(update(shipments).where(shipments.c.id == row["id"]).values(
                        shipped_at=now, doc={**row["doc"], "confirmedAt": now}))
        withheld = conn.execute(select(func.count()).select_from(shipments)
                                .where(shipments.c.shipped_at.is_(None))).scalar()
        return jsonify({"success": True, "data": {"hold": _holding(conn), "withheld": withheld}})
