"""The tables of event.file triggers (runtime/file_pickups.py): per flow and node a watch (the lease of the process
listing its folder, when it is due next, its last failure), and a ledger row per file seen, from settling to taken
(its runs stored) to archived or moved to the error folder. Imported into runtime.models' metadata by
runtime/file_pickups.py."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models import Base, utcnow

SETTLING, TAKEN, ARCHIVED, FAILED = "settling", "taken", "archived", "failed"  # FAILED: moved to the error folder


class FileWatch(Base):
    __tablename__ = "file_watches"
    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the process listing now
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # then another may take over
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # the next listing
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # the last listing that worked
    files: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # taken so far
    error: Mapped[str | None] = mapped_column(String(1000), nullable=True)  # the last listing's failure, for operators
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class FilePickup(Base):
    __tablename__ = "file_pickups"
    __table_args__ = (Index("file_pickups_file", "workspace", "flow_id", "node_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    flow_id: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(500))  # the file's name in the watched folder
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[float] = mapped_column(Float)  # as the folder or server reports it (seconds)
    status: Mapped[str] = mapped_column(String(20))  # SETTLING, TAKEN, ARCHIVED, FAILED
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the flow version its runs started on
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)  # first seen with this size and mtime
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # its runs stored
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # moved out of the folder
    runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # runs started, malformed rows included
    malformed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # of which rows that did not parse
    moved_to: Mapped[str | None] = mapped_column(String(1000), nullable=True)  # its path after the move
    error: Mapped[str | None] = mapped_column(String(1000), nullable=True)  # why the whole file was unreadable
