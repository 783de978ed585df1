"""EDI trading partners, their control-number sequences and the interchanges sent to them (issue 15); filled in by the EDI work."""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
