"""PostgreSQL: the run store's message columns (a run's input and output, a step's, truncated payloads, dead
letters) compress with LZ4 instead of the default pglz when PostgreSQL stores them out of line (a value of
over ~2 kB, as most orders are), a fraction of pglz's CPU: on the peer-bench flow in production mode (an
8.5 kB order; bench/peer_flow.py) PostgreSQL's and Redis's CPU per run fell from ~2.1 to ~1.85 ms (medians of
4 loads each, alternating; issue 10).

Only values written from then on use LZ4; those already stored stay readable as they are. A server built
without LZ4 (it is optional from PostgreSQL 14 on; not available before) keeps pglz. SQLite: nothing to do.
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

COLUMNS = {"runs": ("input", "output", "error", "reply", "checkpoint"), "steps": ("input", "output", "error"),
           "payloads": ("data",), "dead_letters": ("payload",)}


def _lz4_available(bind) -> bool:
    return bool(bind.execute(sa.text(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")).first())


def _set(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _lz4_available(bind):
        return
    for table, columns in COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in columns)
        op.execute(f"ALTER TABLE {table} {changes}")


def upgrade():
    _set("lz4")


def downgrade():
    _set("default")
