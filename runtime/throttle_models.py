"""The table of control.throttle's token buckets where there is no Redis (the embedded backend): one row per
workspace and target system, read and written in one locking transaction by runtime/throttles.py, so that the web
process and executor processes share the bucket. Imported into runtime.models' metadata by runtime/throttles.py."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models import Base, utcnow


class ThrottleBucket(Base):
    __tablename__ = "throttle_buckets"
    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    target: Mapped[str] = mapped_column(String(64), primary_key=True)  # the limited system, e.g. "erp"
    tokens: Mapped[float] = mapped_column(Float)  # at `at`; refilled by elapsed time when next taken
    at: Mapped[float] = mapped_column(Float)  # epoch seconds of the last take
    slots: Mapped[list | None] = mapped_column(JSON, nullable=True)  # until when each concurrency slot is held
    next_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # after the last appointment given
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
