"""Dead letters found after a run ended, by maintenance rather than by the run's end write: an EDI interchange
whose 997 did not come within its window (runtime/edi_register.py), resolved when it comes after all. Written on
the caller's connection, so the finding and its dead letters commit together, once, whichever process finds them."""
from __future__ import annotations

from sqlalchemy.engine import Connection

from runtime.models import DeadLetter, utcnow

LETTERS = DeadLetter.__table__


def add(conn: Connection, letters: list[dict]) -> list[int]:
    """Open dead letters, each {"workspace", "run_id", "flow_id", "version", "node_id", "error_class", "code",
    "message", "payload"}; their ids."""
    now = utcnow()
    return [conn.execute(LETTERS.insert().values(**letter, status="open", created_at=now)
                         .returning(LETTERS.c.id)).scalar() for letter in letters]


def resolve(conn: Connection, ids: list[int]) -> int:
    """Resolve open dead letters whose cause went away (the 997 came after all); how many were open."""
    if not ids:
        return 0
    return conn.execute(LETTERS.update().where(LETTERS.c.id.in_(ids), LETTERS.c.status == "open")
                        .values(status="resolved", resolved_at=utcnow())).rowcount
