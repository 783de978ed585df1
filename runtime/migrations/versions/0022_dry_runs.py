"""runs.dry_run: a run started as a dry run (issue 13), which executes up to each side effect and performs none;
the API, the run list and the run inspector mark it."""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("dry_run", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("dry_run")
