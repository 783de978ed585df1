"""Business KPIs (issue 14) from the canonical records the flows move: order cycle time, fulfillment accuracy,
backorder rate, on-time shipment and return rate, per workspace, per day and per warehouse.

Facts: the run's end write (runtime/store/ends.py, beside the document thread's index) records each canonical
order, shipment and return (flows/canonical/) that an execution's steps passed on: a message is one when a
transform.conform step let it out, and later steps of the same execution that carry the same record enrich its
fact with what the systems answered (`erp.no`: the ERP's number for the order, which the WMS's shipments name;
`erp.lines[].quantityBackordered`; `wms.warehouseId`). The first execution that conforms a record inserts its
fact; later ones (a retry, a replay, a redelivered webhook) only fill in what it lacked, so nothing counts twice.

Figures are over the cohort of orders placed in the period (UTC days), with their shipments and returns:
- order_cycle_time_h: mean hours from placed to the order's first shipment, over orders that shipped;
- fulfillment_accuracy: sum over shipped orders of min(units shipped, units ordered) / units ordered;
- backorder_rate: orders with units on backorder / orders whose ERP answer is known;
- on_time_shipment_rate: shipped orders with a requested date whose first shipment's day is on or before it;
- return_rate: units returned / units shipped.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from runtime.kpi_models import KpiFact

if TYPE_CHECKING:
    from runtime.wiring import Runtime

KINDS = ("order", "shipment", "return")
MAX_DAYS = 366  # a report's span
MAX_ORDERS = 100_000  # orders one report reads; past it the report covers the earliest ones
CHUNK = 500  # order numbers per IN (...) query
MAX_TEXT = 200
MAX_FACTS = 500  # facts one execution records (a split of a large batch): past it, the rest is not counted
FACTS = KpiFact.__table__
ENRICHED = ("alias", "warehouse", "requested_date", "backordered")  # what a later execution may fill in
KEYS = ("orders", "shipments", "order_cycle_time_h", "fulfillment_accuracy", "backorder_rate",
        "on_time_shipment_rate", "return_rate")


def _upsert(dialect):
    stmt = dialect.insert(FACTS)
    return stmt.on_conflict_do_update(
        index_elements=["workspace", "kind", "document"],
        set_={name: func.coalesce(getattr(FACTS.c, name), getattr(stmt.excluded, name)) for name in ENRICHED})


_INSERTS = {name: _upsert(dialect) for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


# -- facts -------------------------------------------------------------------------------------------------------

def facts_of(row, outcome, now: dt.datetime) -> list[dict]:
    """The fact rows of one execution of run `row` (see the module docstring); [] when it moved no canonical
    record or is a dry run. Each row carries `new`: False for facts this execution may only enrich (it conformed
    nothing)."""
    if getattr(row, "dry_run", False):
        return []  # a dry run moved nothing
    found: dict[tuple[str, str], dict] = {}
    conformed: set[tuple[str, str]] = set()
    for step in outcome.steps:
        if step.get("status") != "succeeded":
            continue
        fact = _fact(step.get("output"), row, now)
        if fact is None:
            continue
        key = (fact["kind"], fact["document"])
        if key not in found and len(found) >= MAX_FACTS:
            continue
        if step.get("node_type") == "transform.conform" and step.get("port") == "out":
            conformed.add(key)
        earlier = found.get(key)
        found[key] = fact if earlier is None else {**earlier, **{k: fact[k] for k in ENRICHED if fact[k] is not None}}
    return [{**fact, "new": key in conformed} for key, fact in found.items()]


def _fact(message: Any, row, now: dt.datetime) -> dict | None:
    if not isinstance(message, dict) or message.get("schema_version") != 1 or "rejection" in message:
        return None
    lines = message.get("lines")
    if not isinstance(lines, list) or not lines:
        return None
    base = {"workspace": row.workspace, "run_id": row.id, "alias": None, "warehouse": None,
            "requested_date": None, "backordered": None}
    if _text(message.get("shipment_id")) and _text(message.get("order_number")):
        kind, document, order_no = "shipment", _text(message["shipment_id"]), _text(message["order_number"])
        at = _time(message.get("shipped_at")) or now
    elif _text(message.get("rma")) and _text(message.get("order_number")) and "receipt_id" not in message:
        kind, document, order_no = "return", _text(message["rma"]), _text(message["order_number"])
        at = now
    elif _text(message.get("number")) and "customer_no" in message:
        kind = "order"
        document = order_no = _text(message["number"])
        at = _time(message.get("ordered_at")) or now
        erp, wms = message.get("erp"), message.get("wms")
        if isinstance(erp, dict):
            base["alias"] = _text(erp.get("no"))
            erp_lines = erp.get("lines")
            erp_lines = [erp_lines] if isinstance(erp_lines, dict) else erp_lines  # JSONata's one-item sequence
            if isinstance(erp_lines, list):
                base["backordered"] = sum(_number(line.get("quantityBackordered")) for line in erp_lines
                                          if isinstance(line, dict))
        if isinstance(wms, dict):
            base["warehouse"] = (_text(wms.get("warehouseId")) or "")[:64] or None
        requested = _text(message.get("requested_date"))
        base["requested_date"] = requested[:10] if requested and _date(requested[:10]) else None
    else:
        return None
    quantity = sum(_number(line.get("quantity")) for line in lines if isinstance(line, dict))
    return {**base, "kind": kind, "document": document, "order_no": order_no, "at": at,
            "day": at.date().isoformat(), "quantity": quantity, "created_at": now}


def store(conn: Connection, rows: list[dict]) -> None:
    """Write fact rows inside the end write's transaction: a new fact is inserted unless its document has one
    (then what it lacked is filled in); an enrichment only updates a fact that exists."""
    new = [{k: v for k, v in r.items() if k != "new"} for r in rows if r["new"]]
    if new:
        conn.execute(_INSERTS[conn.dialect.name], new)
    for r in rows:
        if r["new"]:
            continue
        values = {name: func.coalesce(getattr(FACTS.c, name), r[name]) for name in ENRICHED if r[name] is not None}
        if values:
            conn.execute(update(FACTS).where(FACTS.c.workspace == r["workspace"], FACTS.c.kind == r["kind"],
                                             FACTS.c.document == r["document"]).values(**values))


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = (str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))
    text = text.replace("\x00", "").strip()[:MAX_TEXT]
    return text or None


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    value = float(value)
    return value if math.isfinite(value) else 0.0


def _time(value: Any) -> dt.datetime | None:
    """A record's ISO time as naive UTC (the store's convention); None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not a time, or one at the calendar's edge
        return None
    return parsed


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


# -- figures -----------------------------------------------------------------------------------------------------

def summary(rt: Runtime, workspace: str, start: dt.date, end: dt.date) -> dict:
    """The KPIs of the orders `workspace` placed from `start` to `end` (inclusive UTC days)."""
    orders, shipments, returns = _cohort(rt, workspace, start, end)
    return _figures(orders, shipments, returns)


def report(rt: Runtime, workspace: str, start: dt.date, end: dt.date) -> dict:
    """The summary, and the same figures per day (the orders' placed day) and per warehouse."""
    orders, shipments, returns = _cohort(rt, workspace, start, end)
    by_day: dict[str, list[dict]] = defaultdict(list)
    by_warehouse: dict[str | None, list[dict]] = defaultdict(list)
    for order in orders:
        by_day[order["day"]].append(order)
        by_warehouse[order["warehouse"]].append(order)
    return {"from": start.isoformat(), "to": end.isoformat(), "summary": _figures(orders, shipments, returns),
            "by_day": [{"day": day, **_figures(group, shipments, returns)} for day, group in sorted(by_day.items())],
            "by_warehouse": [{"warehouse": warehouse, **_figures(group, shipments, returns)}
                             for warehouse, group in sorted(by_warehouse.items(), key=lambda kv: (kv[0] is None,
                                                                                                  kv[0] or ""))]}


def _cohort(rt: Runtime, workspace: str, start: dt.date, end: dt.date):
    """The orders placed in the period, and the shipments and returns of those orders by order number."""
    with rt.reader.connect() as conn:
        orders = [dict(r) for r in conn.execute(
            select(FACTS.c.document, FACTS.c.alias, FACTS.c.warehouse, FACTS.c.at, FACTS.c.day,
                   FACTS.c.requested_date, FACTS.c.quantity, FACTS.c.backordered)
            .where(FACTS.c.workspace == workspace, FACTS.c.kind == "order",
                   FACTS.c.day >= start.isoformat(), FACTS.c.day <= end.isoformat())
            .order_by(FACTS.c.day, FACTS.c.id).limit(MAX_ORDERS)).mappings()]
        numbers = sorted({n for o in orders for n in (o["document"], o["alias"]) if n})
        shipments: dict[str, list[dict]] = defaultdict(list)
        returns: dict[str, list[dict]] = defaultdict(list)
        for chunk in _chunks(numbers):
            for r in conn.execute(select(FACTS.c.kind, FACTS.c.order_no, FACTS.c.at, FACTS.c.quantity)
                                  .where(FACTS.c.workspace == workspace, FACTS.c.kind.in_(("shipment", "return")),
                                         FACTS.c.order_no.in_(chunk))).mappings():
                (shipments if r["kind"] == "shipment" else returns)[r["order_no"]].append(dict(r))
    return orders, shipments, returns


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _figures(orders: list[dict], shipments: dict[str, list[dict]], returns: dict[str, list[dict]]) -> dict:
    shipped_orders = cycle_h = accurate = ordered_of_shipped = shipped_units = returned = 0.0
    on_time = with_date = backordered = known = n_shipments = 0
    for order in orders:
        mine = [s for n in {order["document"], order["alias"]} if n for s in shipments.get(n, ())]
        returned += sum(r["quantity"] for n in {order["document"], order["alias"]} if n
                        for r in returns.get(n, ()))
        if order["backordered"] is not None:
            known += 1
            backordered += order["backordered"] > 0
        if not mine:
            continue
        n_shipments += len(mine)
        shipped_orders += 1
        first = min(s["at"] for s in mine)
        cycle_h += (first - order["at"]).total_seconds() / 3600
        units = sum(s["quantity"] for s in mine)
        shipped_units += units
        accurate += min(units, order["quantity"])
        ordered_of_shipped += order["quantity"]
        if order["requested_date"]:
            with_date += 1
            on_time += first.date().isoformat() <= order["requested_date"]
    return {"orders": len(orders), "shipments": n_shipments,
            "order_cycle_time_h": _ratio(cycle_h, shipped_orders),
            "fulfillment_accuracy": _ratio(accurate, ordered_of_shipped),
            "backorder_rate": _ratio(backordered, known),
            "on_time_shipment_rate": _ratio(on_time, with_date),
            "return_rate": _ratio(returned, shipped_units)}


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None
