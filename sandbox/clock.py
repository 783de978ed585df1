"""Each sandbox system's clock: real UTC time unless a test froze it, so cutoffs and dates are reproducible."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.engine import Connection

from sandbox import store


def now(conn: Connection, system: str) -> datetime:
    frozen = conn.execute(select(store.clocks.c.frozen_at).where(store.clocks.c.system == system)).scalar()
    return datetime.fromisoformat(frozen) if frozen else datetime.now(timezone.utc)


def stamp(conn: Connection, system: str) -> str:
    return now(conn, system).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse(value: str) -> datetime:
    """An ISO 8601 instant; a value without an offset is taken as UTC. Raises ValueError."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def freeze(conn: Connection, system: str, at: datetime | None) -> None:
    conn.execute(store.clocks.delete().where(store.clocks.c.system == system))
    if at is not None:
        conn.execute(store.clocks.insert().values(system=system, frozen_at=at.isoformat()))
