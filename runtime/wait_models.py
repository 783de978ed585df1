"""The tables of control.wait (runtime/waits.py): a row per run waiting at a wait node for a key, and a row per
arrival (the later document) until a wait takes it or its hold runs out. Imported into runtime.models' metadata by
runtime/waits.py, so deleting a workspace deletes them (runtime/tenancy.py finds tables by their workspace column)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models import Base, utcnow


class WaitRow(Base):
    """A run waiting at a control.wait node for `key`: waiting, then matched (an arrival is stored on it),
    completed (the node sent it on `out`) or timed_out. One per (flow, node, key, run): the same run running the
    node again finds it."""
    __tablename__ = "waits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    flow_id: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # waiting | matched | completed | timed_out
    deadline: Mapped[dt.datetime] = mapped_column(DateTime)
    arrival: Mapped[object] = mapped_column(JSON, nullable=True)
    arrival_ref: Mapped[str | None] = mapped_column(String(120), nullable=True)  # the arrival's "<run>:<branch>"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("workspace", "flow_id", "node_id", "key", "run_id", name="uq_wait"),
                      Index("ix_waits_key", "workspace", "flow_id", "node_id", "key", "status"))


class WaitArrival(Base):
    """An arrival at a control.wait node: held (nobody waited for its key yet) until `held_until`, then taken by
    a wait, or unmatched (a dead letter). One per arrival message (`ref`: its run and branch), so the arrival's
    run running the node again delivers nothing twice."""
    __tablename__ = "wait_arrivals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    flow_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    ref: Mapped[str] = mapped_column(String(120))
    run_id: Mapped[int] = mapped_column(Integer)  # the arrival's own run
    arrival: Mapped[object] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # held | taken | unmatched
    held_until: Mapped[dt.datetime] = mapped_column(DateTime)
    taken_by: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the waiting run it was delivered to
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("workspace", "flow_id", "node_id", "ref", name="uq_wait_arrival"),
                      Index("ix_wait_arrivals_key", "workspace", "flow_id", "node_id", "key", "status"),
                      Index("ix_wait_arrivals_held", "status", "held_until"))
