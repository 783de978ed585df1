"""The correlation index of the document thread (issue 14): one row per run and key it carries (kind "po", value
"4711"), written with the run's end write and deleted with the run (foreign key, ON DELETE CASCADE: retention
and workspace deletion remove runs, and their entries go with them). Imported into runtime.models' metadata by
runtime/threads.py."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models import Base, utcnow


class ThreadEntry(Base):
    __tablename__ = "thread_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # the key's kind as the flow declares it: po, order, shipment
    value: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("runs.id", ondelete="CASCADE"))
    flow_id: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100))  # the business event the run is: "released to ERP"
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # when the run's execution found the key

    __table_args__ = (
        UniqueConstraint("run_id", "kind", "value", name="uq_thread_entry"),  # also: a run's entries, cascades
        Index("ix_thread_entries_key", "workspace", "value", "kind"),  # a key's runs (any kind, or one)
        Index("ix_thread_entries_label", "workspace", "label", "at"),  # entries of one business event by time
        Index("ix_thread_entries_at", "at"),
    )
