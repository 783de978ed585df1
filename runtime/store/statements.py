"""The run store's hot statements (a new run, the claim, the end write) compiled once and executed on the DBAPI
cursor of the caller's connection, with SQLAlchemy's own type processing of each parameter and result column.
SQLAlchemy's work around each execution (cache key, parameter processing, result set-up, events) was about
two thirds of a claim and an end write in the embedded process (bench/inproc.py), and a sixth of a loaded
production worker's CPU (psycopg: a cursor per execution, each copying its adapters map, too).

On PostgreSQL a driver error goes through SQLAlchemy's own handling (Connection._handle_dbapi_exception), so
it is raised as SQLAlchemy's DBAPIError and a dropped connection is invalidated and said to be (the writer's
retry needs `connection_invalidated`, store/writer.py), as it would be through Connection.execute.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any, Callable, Iterable

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement


class Prepared:
    """One statement; `first`, `all`, `rowcount`, `insert` and `many` run it with parameters by bind name. An UPDATE or
    INSERT sets the columns named in the parameters, as `Connection.execute` would."""

    def __init__(self, statement: ClauseElement, postgres: ClauseElement | None = None):
        self.statement = statement
        self.postgres = postgres  # the statement PostgreSQL runs instead, when it says more (the same columns)
        self._compiled: dict[tuple, _Compiled] = {}
        self._lock = threading.Lock()

    def first(self, conn: Connection, params: dict) -> Any:
        """The first row returned (attribute access by column key), or None."""
        return self.fetched(conn, params).first()

    def all(self, conn: Connection, params: dict) -> list:
        """Every row returned (attribute access by column key)."""
        return self.fetched(conn, params).all()

    def fetched(self, conn: Connection, params: dict) -> Fetched:
        """The rows returned as the database gave them, made into rows (a JSON column parsed) only when read
        from the Fetched: a write reads them after its commit, not while it holds SQLite's write lock (parsing
        a claimed run's input there was 15% of a loaded executor's time under the lock)."""
        c = self._for(conn, params)
        # all of them: SQLite cannot commit while a statement is still open
        return Fetched(c, _on_cursor(conn, c.sql, c.values(params), lambda cursor: cursor.fetchall()))

    def rowcount(self, conn: Connection, params: dict) -> int:
        c = self._for(conn, params)
        return _on_cursor(conn, c.sql, c.values(params), lambda cursor: cursor.rowcount)

    def insert(self, conn: Connection, params: dict) -> Any:
        """An INSERT of one row; its new primary key."""
        c = self._for(conn, params)
        if c.returns_key:  # PostgreSQL: INSERT .. RETURNING id
            return _on_cursor(conn, c.sql, c.values(params), lambda cursor: cursor.fetchone()[0])
        return _on_cursor(conn, c.sql, c.values(params), lambda cursor: cursor.lastrowid)

    def many(self, conn: Connection, rows: list[dict]) -> None:
        """executemany: every row has the same keys."""
        c = self._for(conn, rows[0], many=True)
        _on_cursor(conn, c.sql, [c.values(r) for r in rows], lambda cursor: None, many=True)

    def _for(self, conn: Connection, params: dict, many: bool = False) -> "_Compiled":
        key = (conn.dialect.name, many, *params)
        c = self._compiled.get(key)
        if c is None:
            with self._lock:
                statement = self.postgres if self.postgres is not None and conn.dialect.name != "sqlite" else self.statement
                c = self._compiled.get(key) or _Compiled(statement, conn.dialect, tuple(params), many)
                self._compiled[key] = c
        return c


class Fetched:
    """Rows fetched by Prepared.fetched, not made yet."""
    __slots__ = ("_compiled", "_raw")

    def __init__(self, compiled: _Compiled, raw: list[tuple]):
        self._compiled, self._raw = compiled, raw

    def first(self) -> Any:
        return self._compiled.row(self._raw[0]) if self._raw else None

    def all(self) -> list:
        return [self._compiled.row(r) for r in self._raw]


_JSON_TEXT = object()  # Unnested: a JSON column's values go as their text


class Unnested:
    """Many rows of a table inserted in one statement on PostgreSQL: `INSERT .. SELECT * FROM unnest(..)`, one
    array per column. psycopg's executemany sends a statement per row (pipelined), and its Python work per row
    was most of a production worker's end write (the step rows of a batch); one statement is one parse, one
    plan and one execution for PostgreSQL too. Each array is cast to the column's base type (text, not
    varchar(n): an explicit cast would cut a value that is too long, the INSERT refuses it). The arrays go in
    binary: in text, psycopg escapes every element with a regular expression, 1.4 ms for the steps of an 8 KB
    order's run (0.15 ms in binary). SQLite runs the same rows as an executemany of `Prepared(table.insert())`."""

    _CASTS = ((Boolean, "boolean", None), (Integer, "integer", None), (Float, "float8", float),
              (DateTime, "timestamp", None), (JSON, "json", _JSON_TEXT), (String, "text", None))

    def __init__(self, table: Table):
        self.table = table
        self.rows = Prepared(table.insert())
        self._sql: dict[tuple, tuple[str, list]] = {}

    def many(self, conn: Connection, rows: list[dict]) -> None:
        """Insert the rows (every row has the same keys)."""
        if conn.dialect.name == "sqlite":
            self.rows.many(conn, rows)
            return
        c = self.rows._for(conn, rows[0], many=True)  # SQLAlchemy's bind processing of each value
        sql, columns = self._statement(tuple(rows[0]))
        values = [c.values(r) for r in rows]
        serialise = conn.dialect._json_serializer or json.dumps  # the engine's (runtime/db.py), as psycopg's would

        def text(v):  # a JSON value as its text: psycopg's dumper would serialise each (even a null) again
            obj = getattr(v, "obj", v)  # psycopg's Json wrapper, as SQLAlchemy's bind processor gives it
            return "null" if obj is None else serialise(obj)
        arrays = {}
        for name, convert in columns:
            if convert is _JSON_TEXT:
                convert = text
            arrays[name] = [v[name] if convert is None or v[name] is None else convert(v[name]) for v in values]
        _on_cursor(conn, sql, arrays, lambda cursor: None)

    def _statement(self, keys: tuple) -> tuple[str, list]:
        found = self._sql.get(keys)
        if found is None:
            casts, columns = [], []
            for key in keys:
                kind = self.table.c[key].type
                cast, convert = next((c, f) for t, c, f in self._CASTS if isinstance(kind, t))
                casts.append(f"%({key})b::{cast}[]")  # binary: psycopg's text arrays escape each value by regex
                columns.append((key, convert))
            sql = (f"INSERT INTO {self.table.name} ({', '.join(keys)}) "
                   f"SELECT * FROM unnest({', '.join(casts)})")
            found = self._sql[keys] = (sql, columns)
        return found


PIPELINE = "crossdock_pipeline"  # Connection.info: the psycopg pipeline of a pipelined write (store/writer.py)


def rowcounts(conn: Connection, calls: list[tuple[Prepared, dict]]) -> list[int]:
    """The rowcount of each (statement, parameters), run in order. In a pipelined write (PostgreSQL,
    Writer.write(pipelined=True)) all of them are sent before any answer is awaited, each on a cursor of its
    own (a cursor keeps the answer of its last statement): one round trip for all, instead of one each."""
    pipeline = conn.info.get(PIPELINE)
    if pipeline is None:
        return [prepared.rowcount(conn, params) for prepared, params in calls]
    fairy = conn.connection
    dbapi = fairy.dbapi_connection
    listeners = conn.dispatch.before_cursor_execute
    cursors, sql, values, cursor = [], "", None, None
    try:
        for prepared, params in calls:
            c = prepared._for(conn, params)
            sql, values, cursor = c.sql, c.values(params), dbapi.cursor()
            cursors.append(cursor)
            if listeners:
                listeners(conn, cursor, sql, values, None, False)
            cursor.execute(sql, values)
        pipeline.sync()
        return [cursor.rowcount for cursor in cursors]
    except conn.dialect.loaded_dbapi.Error as err:
        conn._handle_dbapi_exception(err, sql, values, cursor, None)  # raises SQLAlchemy's error for it
        raise
    finally:
        for cursor in cursors:
            cursor.close()


def command(conn: Connection, sql: str) -> None:
    """A statement without parameters or answer (BEGIN, COMMIT) on the connection's kept cursor; in a pipeline
    it is only queued."""
    _on_cursor(conn, sql, None, lambda cursor: None)


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


def _on_cursor(conn: Connection, sql: str, values, read: Callable[[Any], Any], many: bool = False) -> Any:
    """Run on a DBAPI cursor of the connection and `read` the cursor before it is closed or used again.
    Listeners of the engine's before_cursor_execute event (statement counters in tests, tracing) still see the
    statement, as they would through SQLAlchemy."""
    fairy = conn.connection
    postgres = conn.dialect.name != "sqlite"
    cursor = _kept_cursor(fairy) if postgres else fairy.cursor()
    try:
        listeners = conn.dispatch.before_cursor_execute
        if listeners:
            listeners(conn, cursor, sql, values, None, many)
        (cursor.executemany if many else cursor.execute)(sql, values)
        return read(cursor)
    except conn.dialect.loaded_dbapi.Error as err:
        if not postgres:
            raise
        fairy.info.pop(_CURSOR, None)
        conn._handle_dbapi_exception(err, sql, values, cursor, None)  # raises SQLAlchemy's error for it
        raise
    finally:
        if not postgres:
            cursor.close()


_CURSOR = "crossdock_cursor"


def _kept_cursor(fairy):
    """psycopg: one cursor per DBAPI connection, used again (a new cursor copies the connection's adapters map:
    5% of a loaded web process). The pool's connection record keeps it, with the DBAPI connection it belongs to."""
    dbapi = fairy.dbapi_connection
    kept = fairy.info.get(_CURSOR)
    if kept is None or kept[0] is not dbapi:
        kept = (dbapi, dbapi.cursor())
        fairy.info[_CURSOR] = kept
    return kept[1]


class _Compiled:
    """The SQL text for one set of parameter names and the values the DBAPI gets for them: on SQLite a list in
    the order of its positional parameters, each through its bind processor (JSON, dates), with the values the
    statement itself carries (`.values(status=...)`); on PostgreSQL (named parameters) SQLAlchemy's own
    construct_params and bind processors, as an execution would apply them."""

    def __init__(self, statement: ClauseElement, dialect, keys: Iterable[str], many: bool = False):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=many)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError(f"not a statement without expanding parameters: {compiled.string[:200]}")
        if compiled.insert_prefetch or compiled.update_prefetch:  # Python-side column defaults: give every column
            raise ValueError(f"columns with Python defaults not given: {compiled.insert_prefetch or compiled.update_prefetch}")
        self.sql = compiled.string
        self.compiled = compiled
        self.positional = compiled.positional
        if not self.positional and dialect.name == "sqlite":
            raise ValueError(f"not a positional statement: {compiled.string[:200]}")
        self.returns_key = not self.positional and bool(compiled.returning) and not many
        self.processors = dict(compiled._bind_processors)
        # (name, processor, value when not given: the statement's own (`.values(status=...)`), what the
        # processor makes of None: JSON's 'null', worked out once, as most steps' error and refs are None)
        self.order = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            impl = bind.type.dialect_impl(dialect)
            processor = _datetime_text(impl, impl.bind_processor(dialect))
            self.order.append((name, processor, bind.effective_value, _of_none(processor)))
        columns = getattr(statement, "_returning", None) or ()
        self.columns = [c.key for c in columns]
        self.result = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self.kind = _row_class(tuple(self.columns)) if self.columns else None

    def values(self, params: dict):
        if not self.positional:
            values = self.compiled.construct_params(params, _check=False)
            for name, processor in self.processors.items():
                if name in values:
                    values[name] = processor(values[name])
            return values
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
