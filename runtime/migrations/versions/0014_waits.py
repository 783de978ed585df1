"""Parked control.wait runs and early arrivals (issue 16): runtime/wait_models.py."""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "waits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("deadline", sa.DateTime, nullable=False),
        sa.Column("arrival", sa.JSON, nullable=True),
        sa.Column("arrival_ref", sa.String(120), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("workspace", "flow_id", "node_id", "key", "run_id", name="uq_wait"))
    op.create_index("ix_waits_key", "waits", ["workspace", "flow_id", "node_id", "key", "status"])
    op.create_table(
        "wait_arrivals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("ref", sa.String(120), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("arrival", sa.JSON, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("held_until", sa.DateTime, nullable=False),
        sa.Column("taken_by", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("workspace", "flow_id", "node_id", "ref", name="uq_wait_arrival"))
    op.create_index("ix_wait_arrivals_key", "wait_arrivals", ["workspace", "flow_id", "node_id", "key", "status"])
    op.create_index("ix_wait_arrivals_held", "wait_arrivals", ["status", "held_until"])


def downgrade():
    op.drop_table("wait_arrivals")
    op.drop_table("waits")
