"""Watermark cursors and leases of event.poll triggers (issue 16): one row per flow and poll node."""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "poll_cursors",
        sa.Column("workspace", sa.String(64), primary_key=True),
        sa.Column("flow_id", sa.String(64), primary_key=True),
        sa.Column("node_id", sa.String(64), primary_key=True),
        sa.Column("watermark", sa.JSON, nullable=True),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime, nullable=True),
        sa.Column("due_at", sa.DateTime, nullable=True),
        sa.Column("polled_at", sa.DateTime, nullable=True),
        sa.Column("records", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.String(1000), nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False))


def downgrade():
    op.drop_table("poll_cursors")
