"""Reserved for this session's work (filled in by its owner, renamed to say what it holds)."""
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
