"""The document thread's correlation index (issue 14): runs by the business keys they carry."""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "thread_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("run_id", "kind", "value", name="uq_thread_entry"))
    op.create_index("ix_thread_entries_key", "thread_entries", ["workspace", "value", "kind"])
    op.create_index("ix_thread_entries_label", "thread_entries", ["workspace", "label", "at"])
    op.create_index("ix_thread_entries_at", "thread_entries", ["at"])


def downgrade():
    op.drop_table("thread_entries")
