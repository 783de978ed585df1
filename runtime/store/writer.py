"""Group commit: the run store's writes of concurrent callers (webhook request threads storing new runs,
worker threads claiming and ending runs) share one transaction and one commit instead of each taking
the database's write lock (SQLite's BEGIN IMMEDIATE waits were a tenth of a loaded server's time).

Leader and followers, no thread of its own: the first caller to find the writer idle leads; it takes
every write queued so far (its own first), runs them in order in one transaction, commits once and
wakes each caller with its own result; the next queued caller then leads the next batch. A caller
returns only after its write is committed, so a run is stored before its 202 as before.

PostgreSQL gets no such grouping by default: it commits concurrent transactions on their own
connections in parallel and already shares WAL flushes among them; serialising its writes behind one
leader halved a production worker's runs/s. There a write runs at once in a transaction of its own, and a
write of one statement (`single`: a claim's UPDATE) runs in autocommit: one round trip instead of three
(BEGIN, the statement, COMMIT), the same atomicity, since PostgreSQL runs a lone statement as a
transaction of its own. The exception is a write marked `shared` (a webhook's run INSERT): many request
threads make these at once, each a small statement whose commit costs PostgreSQL more than the row, so
they are grouped on PostgreSQL too, by a Writer of their own (their leader never waits behind a worker's
end write): on the peer-bench flow in production mode this took PostgreSQL's and Redis's CPU per run from
~1.85 to ~1.67 ms (medians of 4 loads each, alternating; issue 10).

A PostgreSQL write of several statements can be `pipelined` (the end write): BEGIN, its statements and
COMMIT go in psycopg's pipeline mode on a connection in autocommit, so they travel without waiting for each
answer; a write that needs answers before it goes on (the end write's fenced UPDATEs) syncs for them
(statements.rowcounts). The end write of a batch is two round trips instead of one per statement (BEGIN, an
UPDATE per run, the steps, COMMIT), in the same one transaction.

A write that fails fails only its caller: when a batch fails, each of its writes runs again alone in
a transaction of its own. So a write is a function of the connection only (no other side effects:
it may run twice), and it never calls the writer itself.

A connection the database dropped (PostgreSQL restarted; runtime/db.py pings only connections idle for a
while) fails the write that finds it before anything was committed: that write runs once more on a new
connection (SQLAlchemy has already discarded the pool's old ones). A failure of the commit itself is not
retried: it may have committed.
"""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from runtime.store.statements import PIPELINE, command

T = TypeVar("T")
MAX_BATCH = 256


class _Dropped(Exception):
    """The write's connection had been dropped by the database before it could commit."""


class _Write:
    __slots__ = ("work", "result", "error", "lead", "done")

    def __init__(self, work: Callable[[Connection], object]):
        self.work = work
        self.result: object = None
        self.error: BaseException | None = None
        self.lead = False  # woken to lead the next batch, not because its write is done
        self.done = threading.Event()

    def value(self):
        if self.error is not None:
            raise self.error
        return self.result


class Writer:
    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH, grouped: bool | None = None):
        self._engine = engine
        # the same pool, its connections in autocommit while checked out for a `single` write (PostgreSQL)
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._max = max_batch
        # SQLite serialises writers (one write lock): sharing its transactions is what helps
        self.grouped = engine.dialect.name == "sqlite" if grouped is None else grouped
        self._lock = threading.Lock()
        self._queued: list[_Write] = []
        self._busy = False  # a leader is writing; while it is not, nothing is queued
        self._conn: Connection | None = None  # the leaders' connection: one leader at a time uses it
        self.batches = 0  # transactions committed for more than one write (figures for tests and benches)
        self._shared: Writer | None = None  # PostgreSQL's group commit of `shared` writes (made on first use)

    def write(self, work: Callable[[Connection], T], single: bool = False, pipelined: bool = False,
              shared: bool = False) -> T:
        """Run `work(connection)` in a transaction, committed when this returns (or raise its error).
        `single`: `work` runs one statement, so ungrouped it runs in autocommit (see above). `pipelined`: on
        PostgreSQL its statements go in a pipeline (see above). `shared`: grouped even on PostgreSQL."""
        if shared and not self.grouped:
            return self._sharing().write(work)
        if not self.grouped:
            # SQLite's writes take its lock file from BEGIN on (runtime/db.py): none of them in autocommit
            postgres = self._engine.dialect.name != "sqlite"
            alone = (self._single if single and postgres else self._pipelined if pipelined and postgres
                     else self._alone)
            try:
                return alone(work)
            except _Dropped:
                return alone(work)
        mine = _Write(work)
        with self._lock:
            self._queued.append(mine)
            lead = not self._busy
            self._busy = True
        if not lead:
            mine.done.wait()
            if not mine.lead:
                return mine.value()
        self._lead()
        return mine.value()

    def _sharing(self) -> "Writer":
        with self._lock:
            if self._shared is None:
                self._shared = Writer(self._engine, self._max, grouped=True)
            return self._shared

    def _lead(self) -> None:
        with self._lock:
            batch = self._queued[:self._max]
            del self._queued[:self._max]
        try:
            self._run(batch)
        finally:
            with self._lock:
                if self._queued:
                    nxt = self._queued[0]
                    nxt.lead = True
                    nxt.done.set()
                else:
                    self._busy = False
            for w in batch:
                if not w.done.is_set():
                    w.done.set()

    def _run(self, batch: list[_Write]) -> None:
        if len(batch) > 1:
            try:
                results = self._transaction(lambda conn: [w.work(conn) for w in batch])
            except Exception:
                pass  # one of them (or the commit) failed: each goes again alone, below
            else:
                self.batches += 1
                for w, result in zip(batch, results):
                    w.result = result
                return
        for w in batch:
            try:
                try:
                    w.result = self._transaction(w.work)
                except _Dropped:
                    w.result = self._transaction(w.work)  # once more, on a new connection
            except Exception as err:
                w.error = err

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        """`work` in a transaction on the leaders' connection, kept between batches (no pool checkout per
        write); a connection whose transaction failed is given back to the pool and a new one taken. Kept,
        it is not pinged: one the database dropped (PostgreSQL restarted) fails `work`'s first statement,
        before anything was committed (_Dropped)."""
        if self._conn is None:
            self._conn = self._engine.connect()
        try:
            with self._conn.begin():
                try:
                    return work(self._conn)
                except DBAPIError as err:
                    if err.connection_invalidated:
                        raise _Dropped() from err
                    raise
        except BaseException:
            conn, self._conn = self._conn, None
            try:
                conn.close()
            except Exception:
                pass  # already unusable: the pool discards it
            raise

    def _alone(self, work: Callable[[Connection], T]) -> T:
        with self._engine.connect() as conn:
            tx = conn.begin()
            try:
                result = work(conn)
            except DBAPIError as err:
                if err.connection_invalidated:
                    raise _Dropped() from err  # nothing was committed on the dropped connection
                tx.rollback()
                raise
            except BaseException:
                tx.rollback()
                raise
            tx.commit()
            return result

    def _pipelined(self, work: Callable[[Connection], T]) -> T:
        with self._autocommit.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            committing = False
            try:
                try:
                    with dbapi.pipeline() as pipeline:
                        conn.info[PIPELINE] = pipeline
                        command(conn, "BEGIN")
                        result = work(conn)
                        committing = True
                        command(conn, "COMMIT")  # sent with the last statements when the pipeline ends
                finally:
                    conn.info.pop(PIPELINE, None)
            except conn.dialect.loaded_dbapi.Error as err:  # the pipeline's last sync: not yet SQLAlchemy's
                try:
                    conn._handle_dbapi_exception(err, "COMMIT", None, None, None)
                except DBAPIError as wrapped:
                    self._undo(dbapi, wrapped)
                    raise wrapped from err
                raise
            except DBAPIError as err:
                self._undo(dbapi, err)
                if err.connection_invalidated and not committing:
                    raise _Dropped() from err  # COMMIT was never sent on the dropped connection
                raise
            except BaseException:
                self._undo(dbapi, None)
                raise
            return result

    @staticmethod
    def _undo(dbapi, err: DBAPIError | None) -> None:
        """A failed pipelined write's transaction rolled back (a connection still usable)."""
        if err is not None and err.connection_invalidated:
            return
        try:
            dbapi.rollback()  # autocommit: ROLLBACK only if a transaction is open
        except Exception:
            pass  # unusable: the pool discards it

    def _single(self, work: Callable[[Connection], T]) -> T:
        with self._autocommit.connect() as conn:
            try:
                return work(conn)
            except DBAPIError as err:
                if err.connection_invalidated:
                    raise _Dropped() from err  # the statement did not reach the database: nothing committed
                raise

    def close(self) -> None:
        """Give the leaders' connection back (the Runtime closes; no write is in flight)."""
        with self._lock:
            conn, self._conn = self._conn, None
            shared = self._shared
        if conn is not None:
            conn.close()
        if shared is not None:
            shared.close()
