"""The tables of alerts (issue 14): rules a workspace sets (what to watch, where to tell), the alerts they raise
(one open alert per rule and key: the dedupe), each alert's deliveries per channel, and a partner's SMTP settings.
Imported into runtime.models' metadata by runtime/alerts.py; a workspace's deletion removes its rows (the
`workspace` column, runtime/tenancy.py)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models import Base, utcnow


class AlertRule(Base):
    __tablename__ = "alert_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # failures | latency | queue_age | absence
    params: Mapped[dict] = mapped_column(JSON)  # as runtime/alerts.py checked them for the kind
    channels: Mapped[dict] = mapped_column(JSON)  # {"webhooks": [url, ...], "emails": [address, ...]}
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    every_s: Mapped[int] = mapped_column(Integer, default=60)  # between evaluations
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # the next evaluation
    holder: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the process evaluating it now
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    evaluated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(String(1000), nullable=True)  # the last evaluation's failure
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("workspace", "name", name="uq_alert_rule_name"),)


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[int] = mapped_column(Integer, ForeignKey("alert_rules.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))  # what is wrong: the missing document's key, an error class
    open_key: Mapped[str | None] = mapped_column(String(200), nullable=True)  # = key while open, else NULL
    status: Mapped[str] = mapped_column(String(20))  # firing | acknowledged | resolved
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the evaluation's evidence, bounded
    count: Mapped[int] = mapped_column(Integer, default=1)  # evaluations that found it so far
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)  # a user, or "rule": it cleared

    __table_args__ = (
        UniqueConstraint("rule_id", "open_key", name="uq_alert_open"),  # NULLs differ: resolved ones never clash
        Index("ix_alerts_workspace", "workspace", "status", "id"),
    )


class AlertDelivery(Base):
    __tablename__ = "alert_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    alert_id: Mapped[int] = mapped_column(Integer, ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(20))  # fired | resolved
    channel: Mapped[str] = mapped_column(String(10))  # webhook | email
    target: Mapped[str] = mapped_column(String(2000))  # the URL or the address
    status: Mapped[str] = mapped_column(String(10))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[dt.datetime] = mapped_column(DateTime)  # the next attempt (or the lease of the one running)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_alert_deliveries_due", "status", "next_at"),)


class SmtpSettings(Base):
    """A partner's outgoing mail server for alert e-mail; the password is a Fernet token of the connections'
    keyring (runtime/connections.py), never shown."""
    __tablename__ = "alert_smtp"
    partner_id: Mapped[str] = mapped_column(String(64), ForeignKey("partners.id", ondelete="CASCADE"),
                                            primary_key=True)
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)
    tls: Mapped[str] = mapped_column(String(10))  # none | starttls | tls
    sender: Mapped[str] = mapped_column(String(254))
    username: Mapped[str | None] = mapped_column(String(254), nullable=True)
    password: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
