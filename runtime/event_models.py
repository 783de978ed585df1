"""The tables of business events between flows (issue 16): each event a control.emit step published, and its
deliveries, one per subscribing event.subscribe node, each a run of that flow. runtime/business_events.py writes
them in one transaction with the delivery runs; rows are imported into runtime.models' metadata through it."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models import Base, utcnow


class BusinessEvent(Base):
    """A published event. `idempotency_key` is the emitting step's (workspace, flow, root run, node, branch): a
    retried or replayed step finds its event instead of publishing again. `hops`: 1 for an event of a run no event
    started, one more than its cause for one emitted by a delivery run; past the limit an emit is refused."""
    __tablename__ = "business_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))  # lower dotted, e.g. shipment.departed
    key: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the business key, e.g. a shipment number
    payload: Mapped[object] = mapped_column(JSON, nullable=True)
    flow_id: Mapped[str] = mapped_column(String(64))  # emitted by this flow, version, run and node
    flow_version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int] = mapped_column(Integer)  # no FK: an event outlives the pruned run that emitted it
    node_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    hops: Mapped[int] = mapped_column(Integer, default=1)
    subscribers: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("workspace", "idempotency_key", name="uq_business_event_step"),
                      Index("ix_business_events_ws", "workspace", "id"),
                      Index("ix_business_events_name", "workspace", "name", "id"),
                      Index("ix_business_events_created", "created_at"))


class EventDelivery(Base):
    """One event delivered to one subscribing node of a deployed flow version: the run that carries it."""
    __tablename__ = "event_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(Integer, ForeignKey("business_events.id", ondelete="CASCADE"))
    workspace: Mapped[str] = mapped_column(String(64))
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int] = mapped_column(Integer)  # no FK, as above
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("event_id", "flow_id", "node_id", name="uq_event_delivery"),
                      Index("ix_event_deliveries_run", "run_id"))
