"""The simulated TMS at /tms/api: carriers and services, rate quotes, bookings that return tracking numbers
(carrier prefix + a per-carrier counter, so tests can predict them) and tracking events. Lists page with
limit/offset and a `next` link; errors are RFC 7807 problem documents.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import select, update

from sandbox import admin, clock, rest, store
from sandbox.rest import Problem

bp = Blueprint("tms", __name__)
SYSTEM = "tms"
admin.add_routes(bp, SYSTEM)

EVENTS = {"PU": ("PICKED_UP", "Picked up"), "IT": ("IN_TRANSIT", "In transit"),
          "OD": ("OUT_FOR_DELIVERY", "Out for delivery"), "DL": ("DELIVERED", "Delivered"),
          "EX": ("EXCEPTION", "Delivery exception")}
FINAL = ("DELIVERED", "VOIDED")


def render_problem(problem: Problem) -> dict:
    result = {"type": f"urn:sandbox:tms:{problem.code}", "title": problem.code.replace("_", " ").capitalize(),
              "status": problem.status, "detail": problem.message}
    if problem.field:
        result["invalidParams"] = [{"name": problem.field, "reason": problem.message}]
    return result


def _page(conn, query, shape):
    limit, offset = rest.query_int("limit", 50, 1, 500), rest.query_int("offset", 0, 0, 10**9)
    page = rest.page(conn, query, offset, limit)
    following = None
    if page.more:
        args = {**request.args.to_dict(), "limit": limit, "offset": offset + limit}
        following = url_for(request.endpoint, _external=True, **(request.view_args or {}), **args)
    return jsonify({"items": [shape(r) for r in page.rows], "total": page.total, "limit": limit, "offset": offset,
                    "next": following})


def _carriers(conn) -> list[dict]:
    return conn.execute(select(store.tms_carriers.c.doc).order_by(store.tms_carriers.c.code)).scalars().all()


@bp.get("/api/carriers")
def list_carriers():
    with store.transaction(rest.engine()) as conn:
        return _page(conn, select(store.tms_carriers).order_by(store.tms_carriers.c.code), lambda r: r["doc"])


def _packages(data: dict) -> list[float]:
    weights = []
    for index, raw in enumerate(rest.items(data, "packages")):
        where = f"packages[{index}]"
        weight = rest.number(raw, "weightKg", at=where)
        if weight <= 0:
            raise Problem(422, "invalid_field", "'weightKg' must be above 0.", f"packages[{index}].weightKg")
        weights.append(weight)
    return weights


def _zone(data: dict) -> int:
    """A distance band from the first digits of the postal codes: 1 (same region) to 10."""
    try:
        origin = str((data.get("shipFrom") or {}).get("postalCode", "4"))[0]
        destination = str((data.get("shipTo") or {}).get("postalCode"))[0]
        return abs(int(origin) - int(destination)) + 1
    except (ValueError, IndexError, AttributeError):
        return 5


def rate(carrier: dict, service: dict, weights: list[float], zone: int) -> float | None:
    """The charge of one service, or None when the carrier cannot take the shipment."""
    if carrier["mode"] == "PARCEL":
        if max(weights) > carrier["maxPackageKg"]:
            return None
        charge = sum(service["base"] + service["perKg"] * w for w in weights)
    else:
        if sum(weights) < carrier["minShipmentKg"]:
            return None
        charge = service["base"] + service["perKg"] * sum(weights)
    return round(charge * (1 + 0.08 * (zone - 1)), 2)


def _arrival(now, service: dict) -> str:
    return (now + timedelta(days=service["transitDays"])).date().isoformat()


@bp.post("/api/rate-quotes")
def quote():
    data = rest.body()
    weights, zone = _packages(data), _zone(data)
    if not isinstance(data.get("shipTo"), dict):
        raise Problem(422, "missing_field", "'shipTo' with a postalCode is required.", "shipTo")
    only_carrier = rest.text(data, "carrierCode", required=False)
    with store.transaction(rest.engine()) as conn:
        now = clock.now(conn, SYSTEM)
        quote_id = f"Q{store.next_number(conn, 'tms.quote', 1):07d}"
        rates = []
        for carrier in _carriers(conn):
            if only_carrier and carrier["scac"] != only_carrier:
                continue
            for service in carrier["services"]:
                charge = rate(carrier, service, weights, zone)
                if charge is not None:
                    rates.append({"rateId": f"{quote_id}-{len(rates) + 1}", "carrierCode": carrier["scac"],
                                  "serviceCode": service["serviceCode"], "serviceName": service["name"],
                                  "transitDays": service["transitDays"], "totalCharge": charge, "currency": "USD",
                                  "estimatedDelivery": _arrival(now, service)})
        rates.sort(key=lambda r: (r["totalCharge"], r["rateId"]))
        doc = {"quoteId": quote_id, "zone": zone, "totalWeightKg": round(sum(weights), 3),
               "expiresAt": (now + timedelta(minutes=30)).isoformat(timespec="seconds").replace("+00:00", "Z"),
               "rates": rates}
        conn.execute(store.tms_quotes.insert().values(id=quote_id, doc=doc, created_at=clock.stamp(conn, SYSTEM)))
        return jsonify(doc), 201


@bp.get("/api/rate-quotes/<quote_id>")
def get_quote(quote_id):
    with store.transaction(rest.engine()) as conn:
        doc = conn.execute(select(store.tms_quotes.c.doc).where(store.tms_quotes.c.id == quote_id)).scalar()
        if doc is None:
            raise Problem(404, "quote_not_found", f"Rate quote {quote_id} does not exist.")
        return jsonify(doc)


def _shipment_json(row) -> dict:
    return {"shipmentId": row["id"], "reference": row["reference"], "trackingNumber": row["tracking_number"],
            "carrierCode": row["carrier_code"], "status": row["status"], **row["doc"], "version": row["version"],
            "createdAt": row["created_at"]}


def _shipment(conn, shipment_id: str):
    row = conn.execute(select(store.tms_shipments).where(store.tms_shipments.c.id == shipment_id)).mappings().first()
    if row is None:
        raise Problem(404, "shipment_not_found", f"Shipment {shipment_id} does not exist.")
    return row


def _choose_service(conn, data: dict) -> tuple[dict, dict]:
    """The carrier and service booked: from a quoted rateId, or from carrierCode + serviceCode."""
    rate_id = rest.text(data, "rateId", required=False)
    if rate_id:
        quote_doc = conn.execute(select(store.tms_quotes.c.doc).where(
            store.tms_quotes.c.id == rate_id.rsplit("-", 1)[0])).scalar()
        chosen = [r for r in (quote_doc or {}).get("rates", []) if r["rateId"] == rate_id]
        if not chosen:
            raise Problem(422, "rate_not_found", f"Rate {rate_id} does not exist.", "rateId")
        carrier_code, service_code = chosen[0]["carrierCode"], chosen[0]["serviceCode"]
    else:
        carrier_code, service_code = rest.text(data, "carrierCode"), rest.text(data, "serviceCode")
    carrier = next((c for c in _carriers(conn) if c["scac"] == carrier_code), None)
    if carrier is None:
        raise Problem(422, "carrier_not_found", f"Carrier {carrier_code} does not exist.", "carrierCode")
    service = next((s for s in carrier["services"] if s["serviceCode"] == service_code), None)
    if service is None:
        raise Problem(422, "service_not_found", f"Carrier {carrier_code} has no service {service_code}.",
                      "serviceCode")
    return carrier, service


@bp.post("/api/shipments")
def book():
    """Book a shipment; a reference books once (409 names the existing shipment)."""
    data = rest.body()
    with store.transaction(rest.engine()) as conn:
        reference = rest.text(data, "reference")
        existing = conn.execute(select(store.tms_shipments.c.id).where(
            store.tms_shipments.c.reference == reference)).scalar()
        if existing:
            raise Problem(409, "duplicate_reference", f"Reference {reference} is already booked as {existing}.",
                          "reference", existing=existing)
        carrier, service = _choose_service(conn, data)
        weights = _packages(data)
        charge = rate(carrier, service, weights, _zone(data))
        if charge is None:
            raise Problem(422, "not_serviceable", f"{carrier['name']} cannot carry these packages.", "packages")
        counter = store.next_number(conn, f"tms.tracking.{carrier['scac']}", 1)
        tracking = f"{carrier['trackingPrefix']}{counter:010d}"
        shipment_id = f"TS{store.next_number(conn, 'tms.shipment', 1):07d}"
        now = clock.now(conn, SYSTEM)
        doc = {"serviceCode": service["serviceCode"], "serviceName": service["name"], "totalCharge": charge,
               "currency": "USD", "shipFrom": data.get("shipFrom"), "shipTo": data.get("shipTo"),
               "packages": [{"packageNo": i + 1, "weightKg": w} for i, w in enumerate(weights)],
               "estimatedDelivery": _arrival(now, service)}
        conn.execute(store.tms_shipments.insert().values(
            id=shipment_id, reference=reference, tracking_number=tracking, carrier_code=carrier["scac"],
            status="BOOKED", doc=doc, version=1, created_at=clock.stamp(conn, SYSTEM)))
        _event(conn, shipment_id, tracking, "BK", "Shipment booked", None, clock.stamp(conn, SYSTEM))
        return rest.with_etag(_shipment_json(_shipment(conn, shipment_id)), 1, status=201,
                              location=url_for(".get_shipment", shipment_id=shipment_id))


def _event(conn, shipment_id, tracking, code, description, location, occurred_at) -> None:
    conn.execute(store.tms_tracking_events.insert().values(
        shipment_id=shipment_id, tracking_number=tracking, code=code, description=description, location=location,
        occurred_at=occurred_at))


@bp.get("/api/shipments")
def list_shipments():
    shipments = store.tms_shipments
    query = select(shipments).order_by(shipments.c.id)
    for arg, column in (("reference", shipments.c.reference), ("carrierCode", shipments.c.carrier_code),
                        ("status", shipments.c.status)):
        if request.args.get(arg):
            query = query.where(column == request.args[arg])
    with store.transaction(rest.engine()) as conn:
        return _page(conn, query, _shipment_json)


@bp.get("/api/shipments/<shipment_id>")
def get_shipment(shipment_id):
    with store.transaction(rest.engine()) as conn:
        row = _shipment(conn, shipment_id)
        return rest.with_etag(_shipment_json(row), row["version"])


@bp.post("/api/shipments/<shipment_id>/void")
def void(shipment_id):
    with store.transaction(rest.engine()) as conn:
        row = _shipment(conn, shipment_id)
        rest.check_if_match(row["version"])
        if row["status"] != "BOOKED":
            raise Problem(409, "not_voidable", f"Shipment {shipment_id} is {row['status']}; only BOOKED can be voided.")
        return _set_status(conn, row, "VOIDED", "VD", "Shipment voided", None, clock.stamp(conn, SYSTEM))


@bp.post("/api/shipments/<shipment_id>/events")
def add_event(shipment_id):
    """Record a carrier scan (PU, IT, OD, DL, EX); the demo and tests use it to move a parcel along."""
    data = rest.body()
    code = (rest.text(data, "code") or "").upper()
    if code not in EVENTS:
        raise Problem(422, "invalid_field", f"'code' must be one of {', '.join(EVENTS)}.", "code")
    with store.transaction(rest.engine()) as conn:
        row = _shipment(conn, shipment_id)
        if row["status"] in FINAL:
            raise Problem(409, "shipment_closed", f"Shipment {shipment_id} is {row['status']}.")
        occurred = rest.text(data, "occurredAt", required=False)
        try:
            occurred = clock.parse(occurred).isoformat().replace("+00:00", "Z") if occurred else None
        except ValueError:
            raise Problem(422, "invalid_field", "'occurredAt' must be an ISO 8601 time.", "occurredAt") from None
        status, description = EVENTS[code]
        return _set_status(conn, row, status, code, description, rest.text(data, "location", required=False),
                           occurred or clock.stamp(conn, SYSTEM))


def _set_status(conn, row, status, code, description, location, occurred_at):
    _event(conn, row["id"], row["tracking_number"], code, description, location, occurred_at)
    conn.execute(update(store.tms_shipments).where(store.tms_shipments.c.id == row["id"]).values(
        status=status, version=row["version"] + 1))
    updated = _shipment(conn, row["id"])
    return rest.with_etag(_shipment_json(updated), updated["version"])


def _event_json(r) -> dict:
    return {"sequence": r["sequence"], "shipmentId": r["shipment_id"], "trackingNumber": r["tracking_number"],
            "code": r["code"], "description": r["description"], "location": r["location"],
            "occurredAt": r["occurred_at"]}


@bp.get("/api/tracking/<tracking_number>")
def track(tracking_number):
    with store.transaction(rest.engine()) as conn:
        row = conn.execute(select(store.tms_shipments).where(
            store.tms_shipments.c.tracking_number == tracking_number)).mappings().first()
        if row is None:
            raise Problem(404, "tracking_not_found", f"No shipment has tracking number {tracking_number}.")
        events = conn.execute(select(store.tms_tracking_events).where(
            store.tms_tracking_events.c.shipment_id == row["id"]).order_by(
            store.tms_tracking_events.c.sequence)).mappings().all()
        return jsonify({"trackingNumber": tracking_number, "shipmentId": row["id"], "carrierCode": row["carrier_code"],
                        "status": row["status"], "events": [_event_json(e) for e in events]})


@bp.get("/api/tracking-events")
def list_tracking_events():
    """Every scan after a sequence number, for polling."""
    events = store.tms_tracking_events
    query = select(events).where(events.c.sequence > rest.query_int("afterSequence", 0, 0, 10**12))
    with store.transaction(rest.engine()) as conn:
        return _page(conn, query.order_by(events.c.sequence), _event_json)
