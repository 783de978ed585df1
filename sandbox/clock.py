"""Each sandbox system's clock: real UTC time unless a test froze it, so cutoffs and dates are reproducible.

Whether a clock is frozen is kept per database in the process (a write asks the time several times, and each
ask was a query): `freeze` and `admin.reset` are the only writers of the clock rows, and they set it too.
"""
from __future__ import annotations

import weakref
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from sandbox import store

_frozen: "weakref.WeakKeyDictionary[Engine, dict[str, str | None]]" = weakref.WeakKeyDictionary()


def frozen_at(conn: Connection, system: str) -> str | None:
    """The time the system's clock is frozen at (ISO 8601), or None when it runs."""
    known = _frozen.setdefault(conn.engine, {})
    if system not in known:
        known[system] = conn.execute(select(store.clocks.c.frozen_at).where(store.clocks.c.system == system)).scalar()
    return known[system]


def remember(conn: Connection, system: str, frozen: str | None) -> None:
    _frozen.setdefault(conn.engine, {})[system] = frozen


def now(conn: Connection, system: str) -> datetime:
    frozen = frozen_at(conn, system)
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
    remember(conn, system, None if at is None else at.isoformat())
