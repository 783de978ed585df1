"""Initial schema: workspaces, flows, versions, webhook routes, runs, steps, payloads, dead letters, ledger."""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False))
    op.create_table(
        "flows",
        sa.Column("workspace", sa.String(64), sa.ForeignKey("workspaces.id"), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("deployed_version", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False))
    op.create_table(
        "flow_versions",
        sa.Column("workspace", sa.String(64), primary_key=True),
        sa.Column("flow_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False))
    op.create_table(
        "webhook_routes",
        sa.Column("workspace", sa.String(64), primary_key=True),
        sa.Column("path", sa.String(200), primary_key=True),
        sa.Column("method", sa.String(10), primary_key=True),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("respond", sa.String(10), nullable=False),
        sa.Column("timeout_s", sa.Float, nullable=False))
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("trigger_node", sa.String(64)),
        sa.Column("business_key", sa.String(200)),
        sa.Column("sequence_key", sa.String(200)),
        sa.Column("input", sa.JSON),
        sa.Column("output", sa.JSON),
        sa.Column("error", sa.JSON),
        sa.Column("reply", sa.JSON),
        sa.Column("checkpoint", sa.JSON),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(200)),
        sa.Column("lease_until", sa.DateTime),
        sa.Column("not_before", sa.DateTime),
        sa.Column("replay_of", sa.Integer),
        sa.Column("start_node", sa.String(64)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("started_at", sa.DateTime),
        sa.Column("finished_at", sa.DateTime))
    op.create_index("ix_runs_flow", "runs", ["workspace", "flow_id", "id"])
    op.create_index("ix_runs_status", "runs", ["status", "not_before"])
    op.create_index("ix_runs_key", "runs", ["workspace", "business_key"])
    op.create_index("ix_runs_sequence", "runs", ["workspace", "flow_id", "sequence_key", "id"])
    op.create_table(
        "steps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("node_type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("port", sa.String(64)),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("duration_ms", sa.Float),
        sa.Column("input", sa.JSON),
        sa.Column("output", sa.JSON),
        sa.Column("error", sa.JSON),
        sa.Column("truncated", sa.Boolean, nullable=False))
    op.create_index("ix_steps_run", "steps", ["run_id", "seq"])
    op.create_table(
        "payloads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step_seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("data", sa.JSON))
    op.create_index("ix_payloads_run_id", "payloads", ["run_id"])
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("error_class", sa.String(20), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("payload", sa.JSON),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("resolved_at", sa.DateTime))
    op.create_index("ix_dead_letters_ws", "dead_letters", ["workspace", "status", "id"])
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("workspace", "scope", "key", name="uq_ledger_key"))


def downgrade():
    for table in ("ledger", "dead_letters", "payloads", "steps", "runs", "webhook_routes",
                  "flow_versions", "flows", "workspaces"):
        op.drop_table(table)
