"""The business facts behind the KPIs (issue 14): one row per canonical record a run moved (an order placed, a
shipment, a return), unique per (workspace, kind, document) so a retried or replayed run never counts twice.
Facts outlive the runs that recorded them (no foreign key: retention prunes runs, the KPIs keep their history);
workspace deletion removes them by their `workspace` column. Imported into runtime.models' metadata by
runtime/kpis.py."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models import Base, utcnow


class KpiFact(Base):
    __tablename__ = "kpi_facts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # order | shipment | return
    document: Mapped[str] = mapped_column(String(200))  # order number, shipment id, RMA
    order_no: Mapped[str] = mapped_column(String(200))  # the order it concerns (an order: its own number)
    alias: Mapped[str | None] = mapped_column(String(200), nullable=True)  # an order's number in the ERP
    warehouse: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)  # placed, shipped, authorised (UTC)
    day: Mapped[str] = mapped_column(String(10))  # at's UTC day, YYYY-MM-DD: what the KPIs group by
    requested_date: Mapped[str | None] = mapped_column(String(10), nullable=True)  # an order's requested date
    quantity: Mapped[float] = mapped_column(Float)  # units ordered, shipped, returned
    backordered: Mapped[float | None] = mapped_column(Float, nullable=True)  # an order's units on backorder
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the run that recorded it first
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("workspace", "kind", "document", name="uq_kpi_fact"),
        Index("ix_kpi_facts_day", "workspace", "kind", "day"),
        Index("ix_kpi_facts_order", "workspace", "kind", "order_no"),
    )
