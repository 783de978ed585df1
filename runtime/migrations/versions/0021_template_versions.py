"""Template versions a partner publishes, and where each installed flow came from with its merge base (issue 13;
runtime/template_models.py)."""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "template_versions",
        sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("template_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("bundle", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False))
    op.create_table(
        "template_installs",
        sa.Column("workspace", sa.String(64), primary_key=True),
        sa.Column("flow_id", sa.String(64), primary_key=True),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("base", sa.JSON, nullable=False),
        sa.Column("installed_at", sa.DateTime, nullable=False),
        sa.Column("upgraded_at", sa.DateTime, nullable=True))


def downgrade():
    op.drop_table("template_installs")
    op.drop_table("template_versions")
