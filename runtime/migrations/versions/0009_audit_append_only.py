"""The audit log is append-only in the database itself: triggers refuse UPDATE and DELETE of audit_entries
(and TRUNCATE on PostgreSQL), whatever the code or a console session tries; deleting a workspace leaves
its history."""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

MESSAGE = "audit_entries is append-only"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"""
            CREATE FUNCTION audit_entries_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$"""))
        op.execute(sa.text("CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
                           "FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse()"))
        op.execute(sa.text("CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
                           "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_refuse()"))
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(sa.text(f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries "
                               f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {verb} refused'); END"))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("DROP TRIGGER audit_entries_no_truncate ON audit_entries"))
        op.execute(sa.text("DROP TRIGGER audit_entries_append_only ON audit_entries"))
        op.execute(sa.text("DROP FUNCTION audit_entries_refuse()"))
    else:
        op.execute(sa.text("DROP TRIGGER audit_entries_no_delete"))
        op.execute(sa.text("DROP TRIGGER audit_entries_no_update"))
