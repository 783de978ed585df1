"""Business events of control.emit and their deliveries to event.subscribe flows (issue 16); filled in by the events work."""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
