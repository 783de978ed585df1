"""Exception workbench (issue 14): per dead letter its root cause, class, business key, assignee, comments, the run
that retries it and how it was resolved."""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "exception_states",
        sa.Column("dead_letter_id", sa.Integer, sa.ForeignKey("dead_letters.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("root_cause", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("business_key", sa.String(200), nullable=True),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("comments", sa.JSON, nullable=True),
        sa.Column("retry_run_id", sa.Integer, nullable=True),
        sa.Column("resolution", sa.String(20), nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False))
    op.create_index("ix_exception_states_cause", "exception_states", ["workspace", "root_cause"])
    op.create_index("ix_exception_states_retry", "exception_states", ["retry_run_id"])


def downgrade():
    op.drop_table("exception_states")
