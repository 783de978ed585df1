"""Identity and tenancy: partners own workspaces (an existing installation's workspaces go to the partner
`default`); users, their roles per workspace, API keys, the append-only audit log and published
experience endpoints."""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "partners",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("branding", sa.JSON),
        sa.Column("limits", sa.JSON),
        sa.Column("created_at", sa.DateTime, nullable=False))
    op.execute(sa.text("INSERT INTO partners (id, name, created_at) VALUES ('default', 'Default partner', "
                       "CURRENT_TIMESTAMP)"))
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("partner_id", sa.String(64), nullable=False, server_default="default"))
        batch.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="active"))
        batch.add_column(sa.Column("settings", sa.JSON))
        batch.create_foreign_key("fk_workspaces_partner", "partners", ["partner_id"], ["id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("partner_admin", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime),
        sa.Column("session_epoch", sa.Integer, nullable=False),
        sa.Column("must_change_password", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_login_at", sa.DateTime))
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("workspace", sa.String(64), sa.ForeignKey("workspaces.id"), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False))
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("workspace", sa.String(64), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime),
        sa.Column("last_used_at", sa.DateTime))
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.String(64)),
        sa.Column("workspace", sa.String(64)),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("summary", sa.JSON),
        sa.Column("at", sa.DateTime, nullable=False))
    op.create_index("ix_audit_workspace_at", "audit_entries", ["workspace", "at"])
    op.create_index("ix_audit_partner_at", "audit_entries", ["partner_id", "at"])
    op.create_table(
        "published_endpoints",
        sa.Column("workspace", sa.String(64), sa.ForeignKey("workspaces.id"), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("request_record", sa.String(64)),
        sa.Column("response_record", sa.String(64)),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False))


def downgrade():
    op.drop_table("published_endpoints")
    op.drop_index("ix_audit_partner_at", "audit_entries")
    op.drop_index("ix_audit_workspace_at", "audit_entries")
    op.drop_table("audit_entries")
    op.drop_table("api_keys")
    op.drop_table("memberships")
    op.drop_table("users")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_constraint("fk_workspaces_partner", type_="foreignkey")
        batch.drop_column("settings")
        batch.drop_column("status")
        batch.drop_column("partner_id")
    op.drop_table("partners")
