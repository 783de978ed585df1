"""The stored tables: workspaces (partners, users, keys, audit: runtime/identity_models.py), flow drafts and versions, webhook routes, runs, steps, dead letters,
the idempotency ledger, connections, lookup tables and imported templates. Every row belongs to a
workspace so tenancy needs no schema rewrite later."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy import false  # runs.dry_run's server default
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    """Naive UTC: SQLite keeps no zone, so every timestamp is UTC by convention."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Workspace(Base):
    """A customer's workspace, owned by one partner (runtime/identity_models.py); `settings` holds its
    policies, e.g. {"egress": {"allow": ["127.0.0.1:5001", "10.0.0.0/8"]}}."""
    __tablename__ = "workspaces"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    partner_id: Mapped[str] = mapped_column(String(64), ForeignKey("partners.id"), default="default")
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | suspended
    settings: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class Flow(Base):
    """The editable draft of a flow; `revision` guards concurrent saves (optimistic concurrency)."""
    __tablename__ = "flows"
    workspace: Mapped[str] = mapped_column(String(64), ForeignKey("workspaces.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[dict] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    deployed_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class FlowVersion(Base):
    """An immutable deployed snapshot; runs are pinned to one."""
    __tablename__ = "flow_versions"
    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class WebhookRoute(Base):
    """Where `POST /hooks/<workspace>/<path>` goes: rewritten on every deploy and undeploy."""
    __tablename__ = "webhook_routes"
    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String(200), primary_key=True)
    method: Mapped[str] = mapped_column(String(10), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[str] = mapped_column(String(64))
    respond: Mapped[str] = mapped_column(String(10), default="async")
    timeout_s: Mapped[float] = mapped_column(Float, default=30)


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    flow_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(20))  # webhook | manual | replay | schedule
    trigger_node: Mapped[str | None] = mapped_column(String(64), nullable=True)
    business_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sequence_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    input: Mapped[object] = mapped_column(JSON, nullable=True)
    output: Mapped[object] = mapped_column(JSON, nullable=True)
    error: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    reply: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # answer for a sync webhook
    checkpoint: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # pending work while waiting to retry
    attempt: Mapped[int] = mapped_column(Integer, default=0)  # times a worker claimed it
    # times its lease expired and another worker took it over; at the poison limit it ends `failed`
    takeovers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    not_before: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    replay_of: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start_node: Mapped[str | None] = mapped_column(String(64), nullable=True)  # re-run from this step
    # a dry run (issue 13): connectors stop before the call, nothing is written (runtime/dry_steps.py)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        Index("ix_runs_flow", "workspace", "flow_id", "id"),
        Index("ix_runs_status", "status", "not_before"),
        Index("ix_runs_key", "workspace", "business_key"),
        Index("ix_runs_sequence", "workspace", "flow_id", "sequence_key", "id"),
        Index("ix_runs_flow_created", "workspace", "flow_id", "created_at"),
        Index("ix_runs_created", "workspace", "created_at"),
    )


class Step(Base):
    __tablename__ = "steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[str] = mapped_column(String(64))
    node_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    port: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the port(s) it emitted on
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    duration_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    input: Mapped[object] = mapped_column(JSON, nullable=True)
    output: Mapped[object] = mapped_column(JSON, nullable=True)
    error: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    # the input/output is the same message as one stored before in this run: "run.input", "<seq>.input" or
    # "<seq>.output"; the column above is then NULL (runtime/store/ends.py writes it, reads.py resolves it)
    input_ref: Mapped[str | None] = mapped_column(String(40), nullable=True)
    output_ref: Mapped[str | None] = mapped_column(String(40), nullable=True)

    __table_args__ = (Index("ix_steps_run", "run_id", "seq"), Index("ix_steps_started", "started_at"))


class Payload(Base):
    """Whole step payloads whose copy in the step row was truncated."""
    __tablename__ = "payloads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    step_seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # input | output
    data: Mapped[object] = mapped_column(JSON)


class DeadLetter(Base):
    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int] = mapped_column(Integer)  # no FK: dead letters outlive pruned runs
    flow_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[str] = mapped_column(String(64))
    error_class: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    payload: Mapped[object] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | resolved
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_dead_letters_ws", "workspace", "status", "id"),)


class LedgerEntry(Base):
    """Idempotent-consumer ledger: a key claimed once per (workspace, scope)."""
    __tablename__ = "ledger"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(400))
    run_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("workspace", "scope", "key", name="uq_ledger_key"),)


class SystemConnection(Base):
    """A named connection of a workspace to one system (base URL, auth); secrets are Fernet-encrypted."""
    __tablename__ = "connections"
    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    system: Mapped[str] = mapped_column(String(20), default="http")  # erp | oms | wms | tms | http
    base_url: Mapped[str] = mapped_column(String(500))
    auth_type: Mapped[str] = mapped_column(String(20), default="none")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)  # non-secret: username, header name
    secret: Mapped[str | None] = mapped_column(Text, nullable=True)  # Fernet token of the secrets' JSON
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LookupEntry(Base):
    """One row of a cross-reference table (OMS SKU -> ERP item, carrier codes, units of measure)."""
    __tablename__ = "lookup_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    table: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(400))
    value: Mapped[object] = mapped_column(JSON, nullable=True)

    __table_args__ = (UniqueConstraint("workspace", "table", "key", name="uq_lookup_key"),)


class InstalledTemplate(Base):
    """A template bundle imported into a workspace, listed in the gallery beside the bundled ones."""
    __tablename__ = "templates"
    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    bundle: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ScheduleFire(Base):
    """One fired tick of an event.schedule trigger; the unique key lets one process win it."""
    __tablename__ = "schedule_fires"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(String(64))
    flow_id: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime)
    fired_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("workspace", "flow_id", "node_id", "due_at", name="uq_schedule_fire"),)


from runtime.identity_models import (ApiKey, AuditEntry, Membership, Partner, PublishedEndpoint,  # noqa: E402,F401
                                     User)
from runtime.edi_models import ControlNumber, SentGroup, SentInterchange, TradingPartner  # noqa: E402,F401
