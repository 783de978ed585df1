"""Business events of control.emit and their deliveries to event.subscribe flows (issue 16)."""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "business_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200)),
        sa.Column("payload", sa.JSON),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("flow_version", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("hops", sa.Integer, nullable=False),
        sa.Column("subscribers", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("workspace", "idempotency_key", name="uq_business_event_step"))
    op.create_index("ix_business_events_ws", "business_events", ["workspace", "id"])
    op.create_index("ix_business_events_name", "business_events", ["workspace", "name", "id"])
    op.create_index("ix_business_events_created", "business_events", ["created_at"])
    op.create_table(
        "event_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("business_events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("flow_version", sa.Integer, nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("event_id", "flow_id", "node_id", name="uq_event_delivery"))
    op.create_index("ix_event_deliveries_run", "event_deliveries", ["run_id"])


def downgrade():
    op.drop_table("event_deliveries")
    op.drop_table("business_events")
