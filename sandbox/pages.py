"""Server-rendered pages showing each sandbox system's records, refreshing every few seconds, so a demo can
watch a sync happen. Values go through Jinja's autoescaping; nothing here writes.
"""
from __future__ import annotations

from flask import Blueprint, render_template_string
from sqlalchemy import select

from sandbox import clock, rest, store

bp = Blueprint("sandbox_pages", __name__)
LIMIT = 50
TITLES = {"oms": "OMS: web orders", "erp": "ERP: sales, items, credit", "wms": "WMS: warehouse DC1",
          "tms": "TMS: carriers and tracking"}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>{{ title }} · Crossdock sandbox</title>
<style>
 body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #1d2433; }
 nav a { margin-right: 1rem; } h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.6rem; }
 table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .25rem .5rem; }
 th { background: #eef1f6; } tr:nth-child(even) td { background: #f8f9fb; } .muted { color: #6b7385; }
</style></head><body>
<nav><a href="/">Sandbox</a>
{% for key, label in titles.items() %}<a href="/{{ key }}/">{{ label }}</a>{% endfor %}</nav>
<h1>{{ title }}</h1>
{% if now %}<p class="muted">Clock: {{ now }} · refreshes every 3 s · API under /{{ system }}/api/</p>{% endif %}
{% for section in sections %}
 <h2>{{ section.title }}
 <span class="muted">({{ section.rows|length }}{% if section.rows|length >= limit %}+{% endif %})</span></h2>
 {% if section.rows %}<table><tr>{% for h in section.headers %}<th>{{ h }}</th>{% endfor %}</tr>
 {% for row in section.rows %}<tr>{% for v in row %}<td>{{ '' if v is none else v }}</td>{% endfor %}</tr>{% endfor %}
 </table>{% else %}<p class="muted">None yet.</p>{% endif %}
{% endfor %}
</body></html>"""


def _rows(conn, table, order, shape) -> list:
    return [shape(r) for r in conn.execute(select(table).order_by(order).limit(LIMIT)).mappings()]


def _section(title: str, headers: list[str], rows: list) -> dict:
    return {"title": title, "headers": headers, "rows": rows}


@bp.get("/")
def index():
    sections = [_section("Systems", ["system", "records", "API"], [
        (TITLES[s], f"/{s}/", f"/{s}/api/") for s in store.SYSTEMS])]
    return render_template_string(PAGE, title="Crossdock sandbox systems", titles=TITLES, sections=sections,
                                  now=None, system=None, limit=LIMIT)


@bp.get("/<any(oms, erp, wms, tms):system>/")
def system_page(system):
    with store.transaction(rest.engine()) as conn:
        sections = {"oms": _oms, "erp": _erp, "wms": _wms, "tms": _tms}[system](conn)
        now = clock.stamp(conn, system)
    return render_template_string(PAGE, title=TITLES[system], titles=TITLES, sections=sections, now=now,
                                  system=system, limit=LIMIT)


def _oms(conn) -> list[dict]:
    t = store
    return [
        _section("Orders", ["name", "id", "status", "email", "lines", "total", "fulfillment", "version", "updated"],
                 _rows(conn, t.oms_orders, t.oms_orders.c.id.desc(), lambda r: (
                     r["name"], r["id"], r["status"], r["doc"].get("email"), len(r["doc"]["line_items"]),
                     r["doc"]["total_price"], r["doc"].get("fulfillment_status"), r["version"], r["updated_at"]))),
        _section("Webhook deliveries", ["id", "topic", "address", "status", "attempts", "HTTP", "error"],
                 _rows(conn, t.oms_webhook_deliveries, t.oms_webhook_deliveries.c.id.desc(), lambda r: (
                     r["id"], r["topic"], r["address"], r["status"], r["attempts"], r["response_status"],
                     r["last_error"]))),
        _section("Webhook subscriptions", ["id", "topic", "address"],
                 _rows(conn, t.oms_webhook_subscriptions, t.oms_webhook_subscriptions.c.id,
                       lambda r: (r["id"], r["topic"], r["address"]))),
        _section("Inventory levels", ["sku", "location", "available", "updated"],
                 _rows(conn, t.oms_inventory_levels, t.oms_inventory_levels.c.sku, lambda r: (
                     r["sku"], r["location_id"], r["available"], r["updated_at"]))),
    ]


def _erp(conn) -> list[dict]:
    t = store
    return [
        _section("Sales orders", ["no", "external doc", "customer", "status", "hold", "lines", "backordered",
                                  "shipped", "invoiced", "version", "modified"],
                 _rows(conn, t.erp_sales_orders, t.erp_sales_orders.c.no.desc(), lambda r: (
                     r["no"], r["external_document_no"], r["customer_no"], r["status"], r["doc"].get("holdReason"),
                     len(r["doc"]["lines"]), sum(l["quantityBackordered"] for l in r["doc"]["lines"]),
                     sum(l["quantityShipped"] for l in r["doc"]["lines"]),
                     sum(l["quantityInvoiced"] for l in r["doc"]["lines"]), r["version"], r["updated_at"]))),
        _section("Posted documents", ["no", "kind", "order", "external doc", "customer", "amount", "posted"],
                 _rows(conn, t.erp_posted_documents, t.erp_posted_documents.c.posted_at.desc(), lambda r: (
                     r["no"], r["kind"], r["order_no"], r["external_document_no"], r["customer_no"], r["amount"],
                     r["posted_at"]))),
        _section("Customers", ["no", "name", "credit limit", "balance", "blocked"],
                 _rows(conn, t.erp_customers, t.erp_customers.c.no, lambda r: (
                     r["no"], r["name"], f"{r['credit_limit']:,.2f}", f"{r['balance']:,.2f}", r["blocked"]))),
        _section("Item availability (EA)", ["item", "location", "inventory", "reserved", "available"],
                 _rows(conn, t.erp_item_stock, t.erp_item_stock.c.item_no, lambda r: (
                     r["item_no"], r["location_code"], r["inventory"], r["reserved"], r["inventory"] - r["reserved"]))),
        _section("Item ledger", ["entry", "item", "type", "quantity", "document", "posted"],
                 _rows(conn, t.erp_item_ledger, t.erp_item_ledger.c.entry_no.desc(), lambda r: (
                     r["entry_no"], r["item_no"], r["entry_type"], r["quantity"], r["document_no"], r["posted_at"]))),
    ]


def _wms(conn) -> list[dict]:
    t = store
    return [
        _section("Shipping orders", ["id", "order number", "wave", "status", "ordered", "allocated", "shipped",
                                     "version"],
                 _rows(conn, t.wms_shipping_orders, t.wms_shipping_orders.c.id.desc(), lambda r: (
                     r["id"], r["order_number"], r["wave_id"], r["status_code"],
                     sum(l["orderedQty"] for l in r["doc"]["lines"]), sum(l["allocatedQty"] for l in r["doc"]["lines"]),
                     sum(l["shippedQty"] for l in r["doc"]["lines"]), r["version"]))),
        _section("Waves", ["wave", "date", "cutoff", "status"], _rows(conn, t.wms_waves, t.wms_waves.c.wave_date.desc(),
                 lambda r: (r["wave_id"], r["wave_date"], r["cutoff_at"], r["status"]))),
        _section("Shipments", ["id", "order number", "parcels", "complete", "shipped"],
                 _rows(conn, t.wms_shipments, t.wms_shipments.c.id.desc(), lambda r: (
                     r["id"], r["order_number"], len(r["doc"]["parcels"]), r["doc"]["orderComplete"],
                     r["shipped_at"]))),
        _section("Receipts", ["id", "receipt number", "lines", "received"],
                 _rows(conn, t.wms_receipts, t.wms_receipts.c.id.desc(), lambda r: (
                     r["id"], r["receipt_number"], ", ".join(f"{l['itemId']} x{l['receivedQty']} {l['condition']}"
                                                             for l in r["doc"]["lines"]), r["received_at"]))),
        _section("Inventory events", ["sequence", "item", "change", "on hand after", "reason", "reference", "at"],
                 _rows(conn, t.wms_inventory_events, t.wms_inventory_events.c.sequence.desc(), lambda r: (
                     r["sequence"], r["item_id"], r["qty_change"], r["on_hand_after"], r["reason_code"],
                     r["reference"], r["occurred_at"]))),
        _section("Inventory", ["item", "warehouse", "on hand", "allocated", "available"],
                 _rows(conn, t.wms_inventory, t.wms_inventory.c.item_id, lambda r: (
                     r["item_id"], r["warehouse_id"], r["on_hand"], r["allocated"], r["on_hand"] - r["allocated"]))),
    ]


def _tms(conn) -> list[dict]:
    t = store
    return [
        _section("Shipments", ["id", "reference", "carrier", "service", "tracking", "status", "charge"],
                 _rows(conn, t.tms_shipments, t.tms_shipments.c.id.desc(), lambda r: (
                     r["id"], r["reference"], r["carrier_code"], r["doc"]["serviceCode"], r["tracking_number"],
                     r["status"], r["doc"]["totalCharge"]))),
        _section("Tracking events", ["sequence", "tracking", "code", "description", "location", "at"],
                 _rows(conn, t.tms_tracking_events, t.tms_tracking_events.c.sequence.desc(), lambda r: (
                     r["sequence"], r["tracking_number"], r["code"], r["description"], r["location"],
                     r["occurred_at"]))),
        _section("Carriers", ["SCAC", "name", "mode", "services"], _rows(conn, t.tms_carriers, t.tms_carriers.c.code,
                 lambda r: (r["code"], r["doc"]["name"], r["doc"]["mode"],
                            ", ".join(s["serviceCode"] for s in r["doc"]["services"])))),
    ]
