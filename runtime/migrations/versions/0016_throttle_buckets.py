"""Token buckets of control.throttle on the embedded backend (issue 16): one row per workspace and target system."""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "throttle_buckets",
        sa.Column("workspace", sa.String(64), primary_key=True),
        sa.Column("target", sa.String(64), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("slots", sa.JSON, nullable=True),
        sa.Column("next_at", sa.Float, nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False))


def downgrade():
    op.drop_table("throttle_buckets")
