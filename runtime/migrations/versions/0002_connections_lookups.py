"""Connections per workspace (secrets encrypted), cross-reference lookup tables, imported templates."""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "connections",
        sa.Column("workspace", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("system", sa.String(20), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=False),
        sa.Column("auth_type", sa.String(20), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("secret", sa.Text),
        sa.Column("updated_at", sa.DateTime, nullable=False))
    op.create_table(
        "lookup_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("table", sa.String(100), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("value", sa.JSON),
        sa.UniqueConstraint("workspace", "table", "key", name="uq_lookup_key"))
    op.create_table(
        "templates",
        sa.Column("workspace", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("bundle", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False))


def downgrade():
    op.drop_table("templates")
    op.drop_table("lookup_entries")
    op.drop_table("connections")
