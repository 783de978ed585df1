"""Server-rendered pages showing each sandbox system's records, refreshing every few seconds, so a demo can
watch a sync happen: a home page linking every system's page and API, one page per system, and a detail page
per record with its fields and lines. Values go through Jinja's autoescaping; nothing here writes.

Every system in store.SYSTEMS gets a page: its own sections below when it has them, else a table per store
table; a record opens a detail page when DETAILS names its table.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint, current_app, render_template_string
from sqlalchemy import JSON, Table, select

from sandbox import clock, rest, store

bp = Blueprint("sandbox_pages", __name__)
LIMIT = 50
TITLES = {"oms": "OMS: web orders", "erp": "ERP: sales, items, credit", "wms": "WMS: warehouse DC1",
          "tms": "TMS: carriers and tracking",
          "netsuite": "NetSuite: a second ERP (REST record API)",
          "edi": "EDI partner: X12 mailbox"}


@dataclass(frozen=True)
class Detail:
    """A record kind with a detail page at /<system>/<kind>/<key>: its table (by name), key column and the list
    in `doc` shown as its lines."""
    table: str
    key: str
    lines: str
    title: str

    def rows(self) -> Table | None:
        return store.metadata.tables.get(self.table)


# system -> kind (as in its API's path) -> Detail; a system not in store.SYSTEMS is left out
DETAILS: dict[str, dict[str, Detail]] = {
    "oms": {"orders": Detail("oms_orders", "id", "line_items", "Order")},
    "erp": {"sales-orders": Detail("erp_sales_orders", "no", "lines", "Sales order")},
    "wms": {"shipping-orders": Detail("wms_shipping_orders", "id", "lines", "Shipping order")},
    "tms": {"shipments": Detail("tms_shipments", "id", "packages", "Shipment")},
    "netsuite": {"sales-orders": Detail("netsuite_sales_orders", "id", "lines", "Sales order")},
}


_SYSTEMS = ", ".join(map(repr, store.SYSTEMS))  # werkzeug's any() converter takes Python literals
_KINDS = ", ".join(map(repr, sorted({kind for kinds in DETAILS.values() for kind in kinds})))


@dataclass(frozen=True)
class Link:
    text: object
    href: str


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
{% if back %}<p><a href="{{ back.href }}">&larr; {{ back.text }}</a></p>{% endif %}
<h1>{{ title }}</h1>
{% if message %}<p>{{ message }}</p>{% endif %}
{% if now %}<p class="muted">Clock: {{ now }} · refreshes every 3 s · API under /{{ system }}/api/</p>{% endif %}
{% for section in sections %}
 <h2>{{ section.title }}
 <span class="muted">({{ section.rows|length }}{% if section.rows|length >= limit %}+{% endif %})</span></h2>
 {% if section.rows %}<table><tr>{% for h in section.headers %}<th>{{ h }}</th>{% endfor %}</tr>
 {% for row in section.rows %}<tr>{% for v in row %}<td>{% for v in (v if v is sequence and v is not string else [v]) %}
 {%- if not loop.first %} · {% endif %}{% if v.href is defined %}<a href="{{ v.href }}">{{ v.text }}</a>
 {%- else %}{{ '' if v is none else v }}{% endif %}{% endfor %}</td>{% endfor %}</tr>{% endfor %}
 </table>{% else %}<p class="muted">None yet.</p>{% endif %}
{% endfor %}
</body></html>"""


def _rows(conn, table, order, shape) -> list:
    return [shape(r) for r in conn.execute(select(table).order_by(order).limit(LIMIT)).mappings()]


def _section(title: str, headers: list[str], rows: list) -> dict:
    return {"title": title, "headers": headers, "rows": rows}


def _titles() -> dict[str, str]:
    return {s: TITLES.get(s, s.upper()) for s in store.SYSTEMS}


def _render(title: str, sections: list[dict], system: str | None = None, now: str | None = None,
            back: Link | None = None, message: str | None = None, status: int = 200):
    return render_template_string(PAGE, title=title, titles=_titles(), sections=sections, now=now, system=system,
                                  limit=LIMIT, back=back, message=message), status


def record(system: str, kind: str | None, text, key) -> Link | object:
    """`text` linked to the record's detail page, or plain when the system has no such detail page."""
    if kind not in DETAILS.get(system, {}):
        return text
    return Link(text, f"/{system}/{kind}/{quote(str(key), safe='')}")


@bp.get("/")
def index():
    titles = _titles()
    rows = [(Link(titles[s], f"/{s}/"), Link(f"/{s}/", f"/{s}/"), _api_links(s)) for s in store.SYSTEMS]
    return _render("Crossdock sandbox systems", [_section("Systems", ["system", "records", "API"], rows)])


def _api_links(system: str) -> list[Link]:
    """The collections of a system's API: every GET route under /<system>/api/ without a variable."""
    prefix = f"/{system}/api/"
    paths = sorted({r.rule for r in current_app.url_map.iter_rules() if r.rule.startswith(prefix)
                    and not r.arguments and "GET" in r.methods and not r.rule[len(prefix):].startswith("_")})
    return [Link(path, path) for path in paths]


@bp.get(f"/<any({_SYSTEMS}):system>/")
def system_page(system):
    with store.transaction(rest.engine()) as conn:
        build = {"oms": _oms, "erp": _erp, "wms": _wms, "tms": _tms}.get(system)
        sections = build(conn) if build else _tables(conn, system)
        now = clock.stamp(conn, system)
    return _render(_titles()[system], sections, system, now)


@bp.get(f"/<any({_SYSTEMS}):system>/<any({_KINDS}):kind>/<key>")
def record_page(system, kind, key):
    """One record's fields (columns, then the rest of its document) and its lines; read-only."""
    detail = DETAILS.get(system, {}).get(kind)
    row = _find(detail, key) if detail and detail.rows() is not None else None
    back = Link(_titles()[system], f"/{system}/")
    if row is None:
        return _render("Not found", [], system, back=back, status=404,
                       message=f"{_titles()[system]} has no {kind} record {key}.")
    doc = row.get("doc") or {}
    fields = [(c, _cell(v)) for c, v in row.items() if c not in ("doc", "request_hash")]
    shown = {c.replace("_", "").lower() for c in row}  # customer_no shown: customerNo is the same field
    fields += [(k, _cell(v)) for k, v in doc.items() if k != detail.lines and k.lower() not in shown]
    lines = [line for line in doc.get(detail.lines) or [] if isinstance(line, dict)]
    headers = list(dict.fromkeys(k for line in lines for k in line))
    return _render(f"{detail.title} {row[detail.key]}", [
        _section("Fields", ["field", "value"], fields),
        _section(f"Lines ({detail.lines})", headers, [tuple(_cell(line.get(h)) for h in headers) for line in lines]),
    ], system, back=back)


def _find(detail: Detail, key: str) -> dict | None:
    table = detail.rows()
    column = table.c[detail.key]
    try:
        value = column.type.python_type(key)
    except (TypeError, ValueError):
        return None
    with store.transaction(rest.engine()) as conn:
        row = conn.execute(select(table).where(column == value)).mappings().first()
    return dict(row) if row else None


def _cell(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def _tables(conn, system: str) -> list[dict]:
    """A system without sections of its own: each of its tables, newest first, JSON columns left out; the key of
    a record with a detail page links to it."""
    sections = []
    for table in store.tables_of(system):
        shown = [c for c in table.columns if not isinstance(c.type, JSON)]
        order = [c.desc() for c in table.primary_key.columns] or [shown[0]]
        kind, detail = next(((k, d) for k, d in DETAILS.get(system, {}).items() if d.table == table.name),
                            (None, None))
        rows = [tuple(record(system, kind, v, v) if detail and c.name == detail.key else v for c, v in zip(shown, r))
                for r in conn.execute(select(*shown).order_by(*order).limit(LIMIT))]
        title = table.name[len(system) + 1:].replace("_", " ").capitalize()
        sections.append(_section(title, [c.name.replace("_", " ") for c in shown], rows))
    return sections


def _oms(conn) -> list[dict]:
    t = store
    return [
        _section("Orders", ["name", "id", "status", "email", "lines", "total", "fulfillment", "version", "updated"],
                 _rows(conn, t.oms_orders, t.oms_orders.c.id.desc(), lambda r: (
                     record("oms", "orders", r["name"], r["id"]), r["id"], r["status"], r["doc"].get("email"), len(r["doc"]["line_items"]),
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
                     record("erp", "sales-orders", r["no"], r["no"]), r["external_document_no"], r["customer_no"], r["status"], r["doc"].get("holdReason"),
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
                     record("wms", "shipping-orders", r["id"], r["id"]), r["order_number"], r["wave_id"], r["status_code"],
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
                     record("tms", "shipments", r["id"], r["id"]), r["reference"], r["carrier_code"], r["doc"]["serviceCode"], r["tracking_number"],
                     r["status"], r["doc"]["totalCharge"]))),
        _section("Tracking events", ["sequence", "tracking", "code", "description", "location", "at"],
                 _rows(conn, t.tms_tracking_events, t.tms_tracking_events.c.sequence.desc(), lambda r: (
                     r["sequence"], r["tracking_number"], r["code"], r["description"], r["location"],
                     r["occurred_at"]))),
        _section("Carriers", ["SCAC", "name", "mode", "services"], _rows(conn, t.tms_carriers, t.tms_carriers.c.code,
                 lambda r: (r["code"], r["doc"]["name"], r["doc"]["mode"],
                            ", ".join(s["serviceCode"] for s in r["doc"]["services"])))),
    ]
