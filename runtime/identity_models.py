"""The tables of identity and tenancy: partner organisations own customer workspaces; users belong to
a partner and hold one role per workspace (a partner admin holds every role in every workspace of the
partner); API keys belong to one workspace; the audit log is append-only; published endpoints expose a
deployed webhook flow as a versioned experience API. Rows are imported into runtime.models' metadata."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models import Base, utcnow


class Partner(Base):
    """An ERP partner or MSP running Crossdock for its customers: its brand and its rate limits."""
    __tablename__ = "partners"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # {"product_name", "logo_url", "colors": {"primary", "accent"}, "support": {"email", "url"}}
    branding: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # {"api_per_minute": int, "hooks_per_minute": int}; missing keys take the installation's defaults
    limits: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64), ForeignKey("partners.id"))
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    partner_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)  # bumped to end every session of the user
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Membership(Base):
    """A user's role in one workspace: consultant | mapper | operator | viewer."""
    __tablename__ = "memberships"
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64), ForeignKey("workspaces.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))


class ApiKey(Base):
    """A workspace's API key: `id` is public (it is the key's prefix); only a hash of the secret is kept."""
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(64), ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list] = mapped_column(JSON)
    key_hash: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AuditEntry(Base):
    """One change, who made it and when; rows are only ever inserted. `workspace` is a plain column (no
    foreign key) so a deleted workspace's history stays readable by its partner."""
    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    workspace: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor: Mapped[str] = mapped_column(String(254))  # "alice@example.com", "key:k_ab12", "system"
    action: Mapped[str] = mapped_column(String(64))  # "flow.update", "flow.deploy", "user.create", ...
    target: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_audit_workspace_at", "workspace", "at"), Index("ix_audit_partner_at", "partner_id", "at"))


class PublishedEndpoint(Base):
    """A deployed webhook flow published as `/api/ext/<workspace>/v<version>/<name>`."""
    __tablename__ = "published_endpoints"
    workspace: Mapped[str] = mapped_column(String(64), ForeignKey("workspaces.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10), default="POST")
    request_record: Mapped[str | None] = mapped_column(String(64), nullable=True)  # canonical record name
    response_record: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
