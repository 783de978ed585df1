"""runs.takeovers: how many times a run's lease expired and another worker took it over; the poison limit reads it."""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("takeovers", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("takeovers")
