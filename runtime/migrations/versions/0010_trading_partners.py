"""EDI trading partners, their control-number sequences and the interchanges sent to them (issue 15)."""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "trading_partners",
        sa.Column("workspace", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("partner_qualifier", sa.String(2), nullable=False),
        sa.Column("partner_id", sa.String(15), nullable=False),
        sa.Column("partner_application", sa.String(15), nullable=False),
        sa.Column("our_qualifier", sa.String(2), nullable=False),
        sa.Column("our_id", sa.String(15), nullable=False),
        sa.Column("our_application", sa.String(15), nullable=False),
        sa.Column("version", sa.String(12), nullable=False),
        sa.Column("usage", sa.String(1), nullable=False),
        sa.Column("delimiters", sa.JSON, nullable=False),
        sa.Column("ack_expected", sa.Boolean, nullable=False),
        sa.Column("ack_window_s", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False))
    op.create_index("ix_trading_partners_isa", "trading_partners", ["workspace", "partner_qualifier", "partner_id"])
    op.create_table(
        "edi_control_numbers",
        sa.Column("workspace", sa.String(64), primary_key=True),
        sa.Column("partner", sa.String(100), primary_key=True),
        sa.Column("last", sa.Integer, nullable=False))
    op.create_table(
        "edi_interchanges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("partner", sa.String(100), nullable=False),
        sa.Column("control_number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("flow_id", sa.String(64)),
        sa.Column("flow_version", sa.Integer),
        sa.Column("node_id", sa.String(64)),
        sa.Column("sent_at", sa.DateTime, nullable=False),
        sa.Column("due_at", sa.DateTime),
        sa.Column("acknowledged_at", sa.DateTime),
        sa.Column("dead_letter_id", sa.Integer),
        sa.UniqueConstraint("workspace", "partner", "control_number", name="uq_edi_interchange"))
    op.create_index("ix_edi_interchanges_due", "edi_interchanges", ["status", "due_at"])
    op.create_index("ix_edi_interchanges_ws", "edi_interchanges", ["workspace", "partner", "id"])
    op.create_table(
        "edi_interchange_groups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("interchange_id", sa.Integer, sa.ForeignKey("edi_interchanges.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("partner", sa.String(100), nullable=False),
        sa.Column("functional_id", sa.String(2), nullable=False),
        sa.Column("control_number", sa.Integer, nullable=False),
        sa.Column("set_count", sa.Integer, nullable=False),
        sa.Column("sets", sa.JSON),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("ack_code", sa.String(1)),
        sa.Column("ack", sa.JSON),
        sa.Column("acknowledged_at", sa.DateTime))
    op.create_index("ix_edi_groups_match", "edi_interchange_groups",
                    ["workspace", "partner", "functional_id", "control_number"])
    op.create_index("ix_edi_groups_interchange", "edi_interchange_groups", ["interchange_id"])


def downgrade():
    op.drop_table("edi_interchange_groups")
    op.drop_table("edi_interchanges")
    op.drop_table("edi_control_numbers")
    op.drop_table("trading_partners")
