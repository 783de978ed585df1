"""Exception workbench: assignment, comments and resolution of failed runs and dead letters (issue 14); filled in by the workbench work."""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
