"""The tables of transform.aggregate (issue 16): a group per (flow, node, correlation id) with its expected count,
deadline, status and owner run, and its parts, unique on (group, position) so that a retried or replayed step stores
a part once. Imported into runtime.models' metadata by runtime/aggregates.py, which writes them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models import Base, utcnow


class AggregateGroup(Base):
    """Parts gathered under one correlation id at one aggregate node. `status`: open, complete (every part in)
    or timed_out (the deadline passed first); it leaves `open` once, in a guarded UPDATE, and the result is emitted
    by the message of the run that opened the group (`owner_run`, its part `owner_position`)."""
    __tablename__ = "aggregate_groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    flow_id: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str] = mapped_column(String(64))
    correlation: Mapped[str] = mapped_column(String(200))
    expected: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0)  # parts stored; equal to `expected`: complete
    status: Mapped[str] = mapped_column(String(20), default="open")
    owner_run: Mapped[int] = mapped_column(Integer)
    owner_position: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[dt.datetime] = mapped_column(DateTime)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (UniqueConstraint("workspace", "flow_id", "node_id", "correlation",
                                       name="uq_aggregate_groups_correlation"),)


class AggregatePart(Base):
    """One part of a group, at its position (the split's index); the run that brought it, for tracing."""
    __tablename__ = "aggregate_parts"
    group_id: Mapped[int] = mapped_column(Integer, ForeignKey("aggregate_groups.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64))  # so that deleting the workspace finds its parts
    run_id: Mapped[int] = mapped_column(Integer)
    part: Mapped[object] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
