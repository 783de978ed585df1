"""Groups and parts of transform.aggregate (issue 16): runtime/aggregate_models.py."""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "aggregate_groups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("correlation", sa.String(200), nullable=False),
        sa.Column("expected", sa.Integer, nullable=False),
        sa.Column("received", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("owner_run", sa.Integer, nullable=False),
        sa.Column("owner_position", sa.Integer, nullable=False),
        sa.Column("deadline", sa.DateTime, nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("closed_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("workspace", "flow_id", "node_id", "correlation", name="uq_aggregate_groups_correlation"))
    op.create_table(
        "aggregate_parts",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("aggregate_groups.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("part", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False))


def downgrade():
    op.drop_table("aggregate_parts")
    op.drop_table("aggregate_groups")
