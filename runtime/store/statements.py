"""The run store's hot statements (a new run, the claim, the end write) compiled once and, on SQLite, executed on
the DBAPI cursor of the writer's connection, with SQLAlchemy's own type processing of each parameter and
result column. SQLAlchemy's work around each execution (cache key, parameter processing, result set-up,
events) was about two thirds of a claim and an end write in the embedded process (bench/inproc.py).

PostgreSQL keeps SQLAlchemy's execution: its errors there say whether the connection was dropped, which
the writer's retry needs (store/writer.py), and a production worker waits on the server, not on this.
"""
from __future__ import annotations

import datetime as dt
import threading
from typing import Any, Callable, Iterable

from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement


class Prepared:
    """One statement; `first`, `all`, `rowcount`, `insert` and `many` run it with parameters by bind name. An UPDATE or
    INSERT sets the columns named in the parameters, as `Connection.execute` would."""

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._compiled: dict[tuple, _Compiled] = {}
        self._lock = threading.Lock()

    def first(self, conn: Connection, params: dict) -> Any:
        """The first row returned (attribute access by column key), or None."""
        if conn.dialect.name != "sqlite":
            return conn.execute(self.statement, params).first()
        c = self._for(conn, params)
        # all of them: SQLite cannot commit while a statement is still open
        rows = _on_cursor(conn, c.sql, c.values(params), lambda cursor: cursor.fetchall())
        return c.row(rows[0]) if rows else None

    def all(self, conn: Connection, params: dict) -> list:
        """Every row returned (attribute access by column key)."""
        if conn.dialect.name != "sqlite":
            return list(conn.execute(self.statement, params).all())
        c = self._for(conn, params)
        rows = _on_cursor(conn, c.sql, c.values(params), lambda cursor: cursor.fetchall())
        return [c.row(r) for r in rows]

    def rowcount(self, conn: Connection, params: dict) -> int:
        if conn.dialect.name != "sqlite":
            return conn.execute(self.statement, params).rowcount
        c = self._for(conn, params)
        return _on_cursor(conn, c.sql, c.values(params), lambda cursor: cursor.rowcount)

    def insert(self, conn: Connection, params: dict) -> Any:
        """An INSERT of one row; its new primary key."""
        if conn.dialect.name != "sqlite":
            return conn.execute(self.statement, params).inserted_primary_key[0]
        c = self._for(conn, params)
        return _on_cursor(conn, c.sql, c.values(params), lambda cursor: cursor.lastrowid)

    def many(self, conn: Connection, rows: list[dict]) -> None:
        """executemany: every row has the same keys."""
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, rows)
            return
        c = self._for(conn, rows[0])
        _on_cursor(conn, c.sql, [c.values(r) for r in rows], lambda cursor: None, many=True)

    def _for(self, conn: Connection, params: dict) -> "_Compiled":
        key = tuple(params)
        c = self._compiled.get(key)
        if c is None:
            with self._lock:
                c = self._compiled.get(key) or _Compiled(self.statement, conn.dialect, key)
                self._compiled[key] = c
        return c


def _of_none(processor):
    if processor is None:
        return None
    try:
        return processor(None)
    except Exception:  # none of the run store's columns does: said when the statement is compiled, not per row
        raise ValueError("a bind processor that refuses None") from None


def _datetime_text(impl, processor):
    """SQLite's DATETIME keeps text, which SQLAlchemy makes with `%`-formatting of a dict per value (a step row
    has two of them): a naive datetime's isoformat with microseconds is the same text, made in C. Other
    values (aware datetimes, dates) go to SQLAlchemy's own processor."""
    if not isinstance(impl, sqlite.DATETIME) or impl._storage_format != sqlite.DATETIME._storage_format:
        return processor
    isoformat = dt.datetime.isoformat

    def process(value):
        if type(value) is dt.datetime and value.tzinfo is None:
            return isoformat(value, " ", "microseconds")
        return processor(value)
    return process


def _on_cursor(conn: Connection, sql: str, values: list, read: Callable[[Any], Any], many: bool = False) -> Any:
    """Run on a DBAPI cursor of the connection and `read` the cursor before it closes. Listeners of the
    engine's before_cursor_execute event (statement counters in tests, tracing) still see the statement, as
    they would through SQLAlchemy."""
    cursor = conn.connection.cursor()
    try:
        listeners = conn.dispatch.before_cursor_execute
        if listeners:
            listeners(conn, cursor, sql, values, None, many)
        (cursor.executemany if many else cursor.execute)(sql, values)
        return read(cursor)
    finally:
        cursor.close()


class _Compiled:
    """The SQL text for one set of parameter names, the order of its positional parameters, the bind
    processor of each (JSON, dates) and the values the statement itself carries (`.values(status=...)`)."""

    def __init__(self, statement: ClauseElement, dialect, keys: Iterable[str]):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        if "POSTCOMPILE" in compiled.string or not compiled.positional:
            raise ValueError(f"not a positional statement without expanding parameters: {compiled.string[:200]}")
        if compiled.insert_prefetch or compiled.update_prefetch:  # Python-side column defaults: give every column
            raise ValueError(f"columns with Python defaults not given: {compiled.insert_prefetch or compiled.update_prefetch}")
        self.sql = compiled.string
        binds = compiled.binds
        # (name, processor, value when not given: the statement's own (`.values(status=...)`), what the
        # processor makes of None: JSON's 'null', worked out once, as most steps' error and refs are None)
        self.order = []
        for name in compiled.positiontup:
            bind = binds[name]
            impl = bind.type.dialect_impl(dialect)
            processor = _datetime_text(impl, impl.bind_processor(dialect))
            self.order.append((name, processor, bind.effective_value, _of_none(processor)))
        columns = getattr(statement, "_returning", None) or ()
        self.columns = [c.key for c in columns]
        self.result = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self.kind = _row_class(tuple(self.columns)) if self.columns else None

    def values(self, params: dict) -> list:
        out = []
        for name, processor, default, none in self.order:
            v = params[name] if name in params else default
            out.append(none if v is None else processor(v) if processor is not None else v)
        return out

    def row(self, raw: tuple):
        return self.kind(*(p(v) if p is not None else v for p, v in zip(self.result, raw)))


_row_classes: dict[tuple, type] = {}


def _row_class(columns: tuple) -> type:
    """A small read-only row with attribute access by column key (what callers of Row used)."""
    kind = _row_classes.get(columns)
    if kind is None:
        def __init__(self, *values):
            for k, v in zip(columns, values):
                object.__setattr__(self, k, v)

        def __setattr__(self, k, v):
            raise AttributeError("rows are read-only")

        def __repr__(self):
            return "Row(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in columns) + ")"

        kind = type("Row", (), {"__slots__": columns, "__init__": __init__, "__setattr__": __setattr__,
                                "__repr__": __repr__, "_fields": columns})
        _row_classes[columns] = kind
    return kind
