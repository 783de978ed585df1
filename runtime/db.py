"""Database engine, sessions and schema migration, for SQLite (embedded) and PostgreSQL (production).

SQLite gets WAL and BEGIN IMMEDIATE so that several threads and processes never lose an update
(pysqlite's defaults lost over half of them under 4 processes); engines are created after any fork, per process.
Writers of several processes (the embedded web process and its executors) queue for the write lock on a
lock file beside the database (WriteLock) instead of in SQLite's busy handler, which sleeps 1, 2, 5, 10, ...
100 ms between tries: under steady writes from two processes its sleepers waited tens of milliseconds
for a lock held for one.
"""
from __future__ import annotations

import fcntl
import functools
import json
import os
import pathlib
import sqlite3
import threading
import time

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from runtime import jsontext

MIGRATIONS = pathlib.Path(__file__).with_name("migrations")
READ_ONLY = "crossdock_read_only"  # an execution option: this connection only reads
PING_IDLE_S = 1.0  # PostgreSQL: a pooled connection idle longer than this is pinged before use
_IDLE_SINCE = "crossdock_idle_since"
# connections kept open per process: a web process serving 16 concurrent webhook requests checked out more
# than 10 at a time, and every connection beyond the kept ones was opened and closed again per request (a
# PostgreSQL connect each: 5% of a loaded production web process). The most at once stays 30.
POOL_SIZE, MAX_OVERFLOW = 20, 10
LOCK_WAIT_S = 30.0  # a thread waiting this long for the SQLite write lock fails, as with SQLite's busy timeout


def make_engine(url: str, schema: str | None = None) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW,
                               json_serializer=_to_json, json_deserializer=jsontext.loads)
        _make_sqlite_safe(engine, WriteLock(path + ".writelock") if path and path != ":memory:" else None)
        return engine
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    engine = create_engine(url, connect_args=connect_args, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW,
                           json_serializer=_to_json, json_deserializer=jsontext.loads)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """A connection idle in the pool longer than PING_IDLE_S is pinged when checked out, and replaced when the
    database dropped it (PostgreSQL restarted): pool_pre_ping did that on every checkout, a round trip that
    was a quarter of a loaded web process's samples. A connection used a moment ago is not pinged; if the
    database dropped it meanwhile, the statement that finds out fails, SQLAlchemy discards every connection
    of the pool made before, and the run store's writes run once more on a new one (store/writer.py)."""
    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_conn, record):
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn, record):
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn, record, _proxy):
        if time.monotonic() - record.info.get(_IDLE_SINCE, 0.0) <= PING_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as err:
            raise exc.DisconnectionError(f"pooled connection dropped: {err}") from err  # the pool connects anew


class JsonText:
    """JSON text made already (the executor's `payload_text` of a message): a JSON column stores it as
    it is instead of serialising the same value again. SQLite's JSON type and psycopg's JSON adapter both
    call the engine's json_serializer (_to_json), which returns it verbatim."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return f"JsonText({self.text[:60]!r})"


def _to_json(value) -> str:
    # messages may carry values JSON has no type for (dates from a SQL source): keep them as text;
    # PostgreSQL refuses NaN and Infinity, which JSONata arithmetic can produce: store them as text too
    if type(value) is JsonText:
        if "NaN" not in value.text and "Infinity" not in value.text:
            return value.text
        value = json.loads(value.text)  # rare: made with NaN or Infinity, written as text below
    try:
        return json.dumps(value, default=str, ensure_ascii=False, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), default=str, ensure_ascii=False)


def _finite(value):
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class WriteLock:
    """One writing transaction at a time across this database's processes and threads: a thread lock, then
    flock on the lock file, both waited for without polling, held from BEGIN IMMEDIATE to COMMIT or ROLLBACK."""

    def __init__(self, path: str):
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._thread = threading.Lock()
        self._holders: set[int] = set()  # id() of the DBAPI connections in a write transaction

    def acquire(self, dbapi_conn) -> None:
        if not self._thread.acquire(timeout=LOCK_WAIT_S):  # as SQLite's busy timeout would have said
            raise sqlite3.OperationalError(f"database is locked (no write lock within {LOCK_WAIT_S:g} s)")
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # waits in the kernel, without the interpreter lock
        except BaseException:
            self._thread.release()
            raise
        self._holders.add(id(dbapi_conn))

    def release(self, dbapi_conn) -> None:
        key = id(getattr(dbapi_conn, "dbapi_connection", dbapi_conn))  # the pool's proxy, or the connection
        if key in self._holders:
            self._holders.discard(key)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._thread.release()

    def holds(self, dbapi_conn) -> bool:
        return id(getattr(dbapi_conn, "dbapi_connection", dbapi_conn)) in self._holders

    def around_transactions(self, dialect) -> None:
        """Release once the transaction ended, however it ends (the dialect commits, rolls back or closes)."""
        for name in ("do_commit", "do_rollback", "do_close"):
            def ended(dbapi_conn, _end=getattr(dialect, name)):
                try:
                    _end(dbapi_conn)
                finally:
                    self.release(dbapi_conn)
            setattr(dialect, name, ended)


def _make_sqlite_safe(engine: Engine, lock: WriteLock | None = None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let us emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000", "foreign_keys=ON"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # a read takes no lock (WAL: a snapshot); a write takes the write lock at BEGIN, so that two writers
        # never find out at their first write that one of them must fail
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi_conn = conn.connection.dbapi_connection
        if lock is None or lock.holds(dbapi_conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        lock.acquire(dbapi_conn)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            lock.release(dbapi_conn)
            raise

    if lock is not None:
        lock.around_transactions(engine.dialect)


def reader(engine: Engine) -> Engine:
    """The same engine (and pool) for connections that only read: on SQLite their transactions begin
    deferred, so reads never wait for the write lock nor hold it. Never write through it."""
    return engine.execution_options(**{READ_ONLY: True})


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision; safe to call at every start. A schema already there is
    told by one read of its version table (0.3 ms): Alembic's upgrade loads every migration script to find that
    out, 7-25 ms a start on SQLite and PostgreSQL, more on a loaded machine, and tests start thousands of Runtimes."""
    with engine.begin() as conn:  # on SQLite the write lock: a process migrating meanwhile is waited for
        if tuple(sorted(MigrationContext.configure(conn).get_current_heads())) == _heads():
            return
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@functools.cache
def _heads() -> tuple[str, ...]:
    """The newest revisions of the migration scripts, read once per process (the scripts ship with the code)."""
    return tuple(sorted(ScriptDirectory(str(MIGRATIONS)).get_heads()))


def default_sqlite_url(data_dir: str) -> str:
    return "sqlite:///" + os.path.join(os.path.abspath(data_dir), "crossdock.sqlite")
