"""The tables of EDI trading partners (issue 15): a workspace's partner records, each partner's interchange
control-number sequence, and the register of interchanges sent to partners with their groups, against which
received 997s are matched. Rows are imported into runtime.models' metadata; runtime/trading_partners.py
writes them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models import Base, utcnow


class TradingPartner(Base):
    """A partner the workspace exchanges X12 with: its ISA/GS ids and ours as it knows us, the delimiters and
    version to write, the usage indicator (ISA15: P production, T test) and whether a 997 is expected back
    within `ack_window_s` of sending."""
    __tablename__ = "trading_partners"
    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    partner_qualifier: Mapped[str] = mapped_column(String(2))  # ISA05 of what it sends, ISA07 of what we send
    partner_id: Mapped[str] = mapped_column(String(15))
    partner_application: Mapped[str] = mapped_column(String(15))  # GS02 / GS03
    our_qualifier: Mapped[str] = mapped_column(String(2))
    our_id: Mapped[str] = mapped_column(String(15))
    our_application: Mapped[str] = mapped_column(String(15))
    version: Mapped[str] = mapped_column(String(12))  # GS08, e.g. 004010 or 005010
    usage: Mapped[str] = mapped_column(String(1))  # ISA15
    delimiters: Mapped[dict] = mapped_column(JSON)  # {"element", "segment", "component", "repetition", "suffix"}
    ack_expected: Mapped[bool] = mapped_column(Boolean, default=True)
    ack_window_s: Mapped[int] = mapped_column(Integer, default=86400)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_trading_partners_isa", "workspace", "partner_qualifier", "partner_id"),)


class ControlNumber(Base):
    """The last interchange control number given out for a partner. Kept apart from the partner record and
    not deleted with it, so a partner deleted and made again under its name never repeats a number."""
    __tablename__ = "edi_control_numbers"
    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner: Mapped[str] = mapped_column(String(100), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class SentInterchange(Base):
    """An interchange sent to a partner. `status`: awaiting (a 997 is expected by `due_at`), acknowledged
    (every group has its 997), overdue (the window passed first: a dead letter was written; a 997 coming
    later acknowledges it and resolves the dead letter), not_expected."""
    __tablename__ = "edi_interchanges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    partner: Mapped[str] = mapped_column(String(100))
    control_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the run and step that sent it
    flow_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    flow_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    node_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # the dead letter it became when overdue; resolved when its 997 comes after all
    dead_letter_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (UniqueConstraint("workspace", "partner", "control_number", name="uq_edi_interchange"),
                      Index("ix_edi_interchanges_due", "status", "due_at"),
                      Index("ix_edi_interchanges_ws", "workspace", "partner", "id"))


class SentGroup(Base):
    """A functional group of a sent interchange; a 997's AK1 names it by functional id and control number.
    `status`: sent, then accepted, accepted_with_errors, partially_accepted or rejected (AK9)."""
    __tablename__ = "edi_interchange_groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interchange_id: Mapped[int] = mapped_column(Integer, ForeignKey("edi_interchanges.id", ondelete="CASCADE"))
    workspace: Mapped[str] = mapped_column(String(64))
    partner: Mapped[str] = mapped_column(String(100))
    functional_id: Mapped[str] = mapped_column(String(2))
    control_number: Mapped[int] = mapped_column(Integer)
    set_count: Mapped[int] = mapped_column(Integer, default=0)
    sets: Mapped[list | None] = mapped_column(JSON, nullable=True)  # [{"set", "control_number"}] when given
    status: Mapped[str] = mapped_column(String(24), default="sent")
    ack_code: Mapped[str | None] = mapped_column(String(1), nullable=True)  # AK901
    ack: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # counts and per-set AK5 codes of the 997
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_edi_groups_match", "workspace", "partner", "functional_id", "control_number"),
                      Index("ix_edi_groups_interchange", "interchange_id"))
