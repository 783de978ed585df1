"""The sandbox systems' tables, the engine and transactions over them.

Each system owns the tables with its prefix; scalar columns hold what is searched or must be unique,
`doc` holds the rest of a record in the system's own field names.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

from sqlalchemy import (JSON, Boolean, Column, Float, Integer, MetaData, String, Table, bindparam, create_engine,
                        event, update)
from sqlalchemy.engine import Connection, Engine

DEFAULT_PATH = os.path.join("data", "sandbox.sqlite")
SYSTEMS = ("oms", "erp", "wms", "tms", "netsuite", "edi")  # netsuite: a second ERP, shaped like NetSuite's REST API;
# edi: a trading partner's X12 mailbox

metadata = MetaData()

# Shared by all systems, keyed by system so that one system's reset leaves the others alone.
clocks = Table("sbx_clocks", metadata, Column("system", String, primary_key=True), Column("frozen_at", String))
counters = Table("sbx_counters", metadata, Column("name", String, primary_key=True), Column("value", Integer))
idempotency_keys = Table(
    "sbx_idempotency_keys", metadata,
    Column("system", String, primary_key=True), Column("key", String, primary_key=True),
    Column("request_hash", String, nullable=False), Column("status", Integer, nullable=False),
    Column("body", JSON, nullable=False), Column("location", String), Column("created_at", String))

erp_customers = Table(
    "erp_customers", metadata, Column("no", String, primary_key=True), Column("name", String, nullable=False),
    Column("credit_limit", Float, nullable=False), Column("balance", Float, nullable=False),
    Column("blocked", Boolean, nullable=False, default=False), Column("doc", JSON, nullable=False),
    Column("version", Integer, nullable=False, default=1))
erp_items = Table(
    "erp_items", metadata, Column("no", String, primary_key=True), Column("description", String),
    Column("base_uom", String, nullable=False), Column("unit_price", Float, nullable=False),
    Column("uoms", JSON, nullable=False), Column("weight_kg", Float), Column("version", Integer, default=1))
erp_item_stock = Table(
    "erp_item_stock", metadata, Column("item_no", String, primary_key=True),
    Column("location_code", String, primary_key=True), Column("inventory", Integer, nullable=False),
    Column("reserved", Integer, nullable=False, default=0))
erp_item_ledger = Table(
    "erp_item_ledger", metadata, Column("entry_no", Integer, primary_key=True, autoincrement=True),
    Column("item_no", String, nullable=False), Column("location_code", String, nullable=False),
    Column("entry_type", String, nullable=False), Column("quantity", Integer, nullable=False),
    Column("document_no", String), Column("posted_at", String, nullable=False))
erp_sales_orders = Table(
    "erp_sales_orders", metadata, Column("no", String, primary_key=True),
    Column("external_document_no", String, nullable=False, unique=True),
    Column("customer_no", String, nullable=False), Column("status", String, nullable=False),
    Column("request_hash", String, nullable=False), Column("doc", JSON, nullable=False),
    Column("version", Integer, nullable=False), Column("created_at", String), Column("updated_at", String))
# What each customer's released orders have outstanding, kept as orders are written (erp_orders.record_exposure)
# so that the credit check reads one row instead of every released order of the customer.
erp_credit_exposure = Table(
    "erp_credit_exposure", metadata, Column("customer_no", String, primary_key=True),
    Column("released", Float, nullable=False))
# Posted documents are immutable: sales shipments, sales invoices and sales credit memos.
erp_posted_documents = Table(
    "erp_posted_documents", metadata, Column("no", String, primary_key=True),
    Column("kind", String, nullable=False), Column("order_no", String), Column("customer_no", String),
    Column("external_document_no", String), Column("amount", Float), Column("doc", JSON, nullable=False),
    Column("posted_at", String, nullable=False))

oms_products = Table(
    "oms_products", metadata, Column("sku", String, primary_key=True), Column("doc", JSON, nullable=False))
oms_inventory_levels = Table(
    "oms_inventory_levels", metadata, Column("sku", String, primary_key=True),
    Column("location_id", Integer, primary_key=True), Column("available", Integer, nullable=False),
    Column("updated_at", String))
oms_customers = Table(
    "oms_customers", metadata, Column("id", Integer, primary_key=True), Column("doc", JSON, nullable=False))
oms_orders = Table(
    "oms_orders", metadata, Column("id", Integer, primary_key=True), Column("name", String, unique=True),
    Column("status", String, nullable=False), Column("doc", JSON, nullable=False),
    Column("version", Integer, nullable=False), Column("created_at", String), Column("updated_at", String))
oms_webhook_subscriptions = Table(
    "oms_webhook_subscriptions", metadata, Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic", String, nullable=False), Column("address", String, nullable=False),
    Column("secret", String, nullable=False), Column("created_at", String))
oms_webhook_deliveries = Table(
    "oms_webhook_deliveries", metadata, Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, nullable=False), Column("topic", String, nullable=False),
    Column("address", String, nullable=False), Column("payload", JSON, nullable=False),
    Column("status", String, nullable=False), Column("attempts", Integer, nullable=False, default=0),
    Column("response_status", Integer), Column("last_error", String), Column("created_at", String),
    Column("delivered_at", String))

wms_warehouses = Table(
    "wms_warehouses", metadata, Column("warehouse_id", String, primary_key=True), Column("name", String),
    Column("cutoff_time", String, nullable=False))
wms_inventory = Table(
    "wms_inventory", metadata, Column("item_id", String, primary_key=True),
    Column("warehouse_id", String, primary_key=True), Column("description", String),
    Column("on_hand", Integer, nullable=False), Column("allocated", Integer, nullable=False, default=0),
    Column("last_sequence", Integer, nullable=False, default=0), Column("updated_at", String))
wms_inventory_events = Table(
    "wms_inventory_events", metadata, Column("sequence", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String, nullable=False), Column("warehouse_id", String, nullable=False),
    Column("qty_change", Integer, nullable=False), Column("on_hand_after", Integer, nullable=False),
    Column("reason_code", String, nullable=False), Column("reference", String),
    Column("occurred_at", String, nullable=False))
wms_waves = Table(
    "wms_waves", metadata, Column("wave_id", String, primary_key=True), Column("warehouse_id", String),
    Column("wave_date", String, nullable=False), Column("cutoff_at", String, nullable=False),
    Column("status", String, nullable=False))
wms_shipping_orders = Table(
    "wms_shipping_orders", metadata, Column("id", String, primary_key=True),
    Column("order_number", String, nullable=False, unique=True), Column("warehouse_id", String),
    Column("wave_id", String), Column("status_code", Integer, nullable=False), Column("doc", JSON, nullable=False),
    Column("version", Integer, nullable=False), Column("created_at", String), Column("updated_at", String))
wms_shipments = Table(
    "wms_shipments", metadata, Column("id", String, primary_key=True), Column("shipping_order_id", String),
    Column("order_number", String), Column("doc", JSON, nullable=False), Column("shipped_at", String))
wms_expected_receipts = Table(
    "wms_expected_receipts", metadata, Column("id", String, primary_key=True),
    Column("receipt_number", String, nullable=False, unique=True), Column("status", String, nullable=False),
    Column("doc", JSON, nullable=False), Column("version", Integer, nullable=False), Column("created_at", String))
wms_receipts = Table(
    "wms_receipts", metadata, Column("id", String, primary_key=True), Column("expected_receipt_id", String),
    Column("receipt_number", String), Column("doc", JSON, nullable=False), Column("received_at", String))

tms_carriers = Table(
    "tms_carriers", metadata, Column("code", String, primary_key=True), Column("doc", JSON, nullable=False))
tms_quotes = Table(
    "tms_quotes", metadata, Column("id", String, primary_key=True), Column("doc", JSON, nullable=False),
    Column("created_at", String))
tms_shipments = Table(
    "tms_shipments", metadata, Column("id", String, primary_key=True),
    Column("reference", String, nullable=False, unique=True), Column("tracking_number", String, unique=True),
    Column("carrier_code", String), Column("status", String, nullable=False), Column("doc", JSON, nullable=False),
    Column("version", Integer, nullable=False), Column("created_at", String))
tms_tracking_events = Table(
    "tms_tracking_events", metadata, Column("sequence", Integer, primary_key=True, autoincrement=True),
    Column("shipment_id", String, nullable=False), Column("tracking_number", String, nullable=False),
    Column("code", String, nullable=False), Column("description", String), Column("location", String),
    Column("occurred_at", String, nullable=False))


# The second ERP (sandbox/netsuite.py): records keyed by internal id, with the externalId clients upsert by.
netsuite_customers = Table(
    "netsuite_customers", metadata, Column("id", Integer, primary_key=True),
    Column("entity_id", String, nullable=False, unique=True), Column("company_name", String, nullable=False),
    Column("credit_limit", Float, nullable=False), Column("balance", Float, nullable=False))
netsuite_items = Table(
    "netsuite_items", metadata, Column("id", Integer, primary_key=True),
    Column("item_id", String, nullable=False, unique=True), Column("display_name", String),
    Column("base_price", Float, nullable=False), Column("weight", Float), Column("on_hand", Integer, nullable=False),
    Column("committed", Integer, nullable=False, default=0))
netsuite_sales_orders = Table(
    "netsuite_sales_orders", metadata, Column("id", Integer, primary_key=True),
    Column("external_id", String, nullable=False, unique=True), Column("customer_id", Integer, nullable=False),
    Column("status", String, nullable=False), Column("request_hash", String, nullable=False),
    Column("doc", JSON, nullable=False), Column("version", Integer, nullable=False), Column("created_at", String),
    Column("updated_at", String))

# The EDI trading partner (sandbox/edi_partner.py): interchanges it received, the documents it holds to send, and
# its sends; the X12 text is in `doc` so that the pages show the envelope columns, not the text.
edi_received = Table(
    "edi_received", metadata, Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String), Column("receiver_id", String), Column("control_number", String),
    Column("sets", String), Column("size", Integer, nullable=False), Column("content_type", String),
    Column("doc", JSON, nullable=False), Column("received_at", String))
edi_documents = Table(
    "edi_documents", metadata, Column("name", String, primary_key=True), Column("sets", String),
    Column("doc", JSON, nullable=False), Column("updated_at", String))
edi_sends = Table(
    "edi_sends", metadata, Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document", String, nullable=False), Column("address", String, nullable=False),
    Column("control_number", String), Column("response_status", Integer), Column("error", String),
    Column("doc", JSON, nullable=False), Column("sent_at", String))


def tables_of(system: str) -> list[Table]:
    return [t for t in metadata.sorted_tables if t.name.startswith(system + "_")]


def make_engine(database_url: str | None) -> Engine:
    """An engine whose transactions are safe under threaded requests: WAL and BEGIN IMMEDIATE."""
    if not database_url:
        os.makedirs(os.path.dirname(DEFAULT_PATH), exist_ok=True)
        database_url = "sqlite:///" + DEFAULT_PATH
    engine = create_engine(database_url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000", "foreign_keys=ON"):
                dbapi_conn.execute("PRAGMA " + pragma)

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # Every transaction takes the write lock first, so read-modify-write never loses an update.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    metadata.create_all(engine)
    return engine


@contextmanager
def transaction(engine: Engine):
    with engine.begin() as conn:
        yield conn


_NEXT = update(counters).where(counters.c.name == bindparam("series")).values(value=counters.c.value + 1).returning(
    counters.c.value)  # built once: one statement per number


def next_number(conn: Connection, name: str, start: int = 1) -> int:
    """The next value of a named document-number series; callers hold the transaction's write lock."""
    value = conn.execute(_NEXT, {"series": name}).scalar()
    if value is None:
        conn.execute(counters.insert().values(name=name, value=start))
        return start
    return value


def clear(conn: Connection, system: str) -> None:
    for table in reversed(tables_of(system)):
        conn.execute(table.delete())
    conn.execute(counters.delete().where(counters.c.name.like(system + ".%")))
    conn.execute(clocks.delete().where(clocks.c.system == system))
    conn.execute(idempotency_keys.delete().where(idempotency_keys.c.system == system))
