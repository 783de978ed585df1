"""Indexes for time windows: run lists by time, flow stats over recent steps, retention by age."""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_runs_flow_created", "runs", ["workspace", "flow_id", "created_at"])
    op.create_index("ix_runs_created", "runs", ["workspace", "created_at"])
    op.create_index("ix_steps_started", "steps", ["started_at"])


def downgrade():
    op.drop_index("ix_steps_started", "steps")
    op.drop_index("ix_runs_created", "runs")
    op.drop_index("ix_runs_flow_created", "runs")
