"""Files picked up by event.file (issue 16): a watch per flow and node (lease, due time), a ledger row per file."""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "file_watches",
        sa.Column("workspace", sa.String(64), primary_key=True),
        sa.Column("flow_id", sa.String(64), primary_key=True),
        sa.Column("node_id", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime, nullable=True),
        sa.Column("due_at", sa.DateTime, nullable=True),
        sa.Column("checked_at", sa.DateTime, nullable=True),
        sa.Column("files", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.String(1000), nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False))
    op.create_table(
        "file_pickups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime", sa.Float, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("seen_at", sa.DateTime, nullable=False),
        sa.Column("taken_at", sa.DateTime, nullable=True),
        sa.Column("done_at", sa.DateTime, nullable=True),
        sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("malformed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("moved_to", sa.String(1000), nullable=True),
        sa.Column("error", sa.String(1000), nullable=True))
    op.create_index("file_pickups_file", "file_pickups", ["workspace", "flow_id", "node_id", "name"])


def downgrade():
    op.drop_index("file_pickups_file", table_name="file_pickups")
    op.drop_table("file_pickups")
    op.drop_table("file_watches")
