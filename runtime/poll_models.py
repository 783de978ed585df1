"""The table of event.poll triggers: per flow and poll node, the watermark of the last record taken and the lease
of the process polling it (runtime/polls.py). Kept across versions and redeploys, so a new version goes on where
the last one stopped; imported into runtime.models' metadata by runtime/polls.py."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models import Base, utcnow


class PollCursor(Base):
    __tablename__ = "poll_cursors"
    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    watermark: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # nodes/event_poll.py encode(); None: none yet
    holder: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the process polling now
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # then another may take over
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # the next poll
    polled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # the last record taken
    records: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # taken so far
    error: Mapped[str | None] = mapped_column(String(1000), nullable=True)  # the last poll's failure, for operators
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
