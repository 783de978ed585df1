"""Business facts behind the KPIs (issue 14; runtime/kpi_models.py): orders, shipments and returns the runs moved."""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kpi_facts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("document", sa.String(200), nullable=False),
        sa.Column("order_no", sa.String(200), nullable=False),
        sa.Column("alias", sa.String(200), nullable=True),
        sa.Column("warehouse", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("requested_date", sa.String(10), nullable=True),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("backordered", sa.Float, nullable=True),
        sa.Column("run_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("workspace", "kind", "document", name="uq_kpi_fact"))
    op.create_index("ix_kpi_facts_day", "kpi_facts", ["workspace", "kind", "day"])
    op.create_index("ix_kpi_facts_order", "kpi_facts", ["workspace", "kind", "order_no"])


def downgrade():
    op.drop_table("kpi_facts")
