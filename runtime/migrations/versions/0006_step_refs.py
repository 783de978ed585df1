"""steps.input_ref / steps.output_ref: a step whose input or output is the very message already stored
for this run (the run's input, or an earlier step's input or output) keeps a reference to it instead of a
second copy: in a flow of n steps most messages pass through unchanged, and each copy was written twice."""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("steps") as batch:
        batch.add_column(sa.Column("input_ref", sa.String(40), nullable=True))
        batch.add_column(sa.Column("output_ref", sa.String(40), nullable=True))


def downgrade():
    with op.batch_alter_table("steps") as batch:
        batch.drop_column("output_ref")
        batch.drop_column("input_ref")
