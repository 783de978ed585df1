"""The runtime's side of the node contract (nodes.base.Context): ids, params, the idempotency key,
the ledger and the sync-webhook reply, for one step of one run."""
from __future__ import annotations

import hashlib
import logging
import weakref
from typing import Any, Callable, Mapping

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from nodes.base import Aggregates, BusinessEvents, Throttles, TradingPartners, Waits
from runtime.models import LedgerEntry, utcnow
from runtime.store.statements import Prepared

# What nodes say about a message (a discard's reason, a duplicate skipped, a write found done): at DEBUG, as the
# step itself shows it (its node's config, `duplicate_of`, `already_done` in its output); an INFO line per
# message was 7% of a loaded process's time. Turn the logger to DEBUG to follow messages in the process log.
log = logging.getLogger("crossdock.flow")
LEDGER = LedgerEntry.__table__
# built once, so that a claim neither builds nor hashes a statement (SQLAlchemy's cache key)
_CLAIMS = {name: dialect.insert(LEDGER).values(
    {c: bindparam(c) for c in ("workspace", "scope", "key", "run_id", "created_at")}
).on_conflict_do_nothing().returning(LEDGER.c.run_id) for name, dialect in (("postgresql", postgresql),
                                                                            ("sqlite", sqlite))}
# run on the connection's DBAPI cursor (runtime/store/statements.py): SQLAlchemy's work around an execution was
# about two thirds of a claim, and an order release makes three
_CLAIM = Prepared(_CLAIMS["sqlite"], postgres=_CLAIMS["postgresql"])
_OWNER = select(LEDGER.c.run_id).where(LEDGER.c.workspace == bindparam("workspace"),
                                       LEDGER.c.scope == bindparam("scope"), LEDGER.c.key == bindparam("key"))


class DatabaseLedger:
    """Idempotent consumer on a unique (workspace, scope, key) row, committed at once so that a
    concurrent or later run sees the claim even if this run fails afterwards. One INSERT .. ON CONFLICT DO
    NOTHING RETURNING per claim (PostgreSQL and SQLite alike), in one short transaction; the owner is read
    only when the key was claimed before."""

    def __init__(self, sessions: sessionmaker[Session], workspace: str, lineage: frozenset[int] = frozenset()):
        bind = sessions.kw.get("bind")
        self._engine: Engine | None = bind if isinstance(bind, Engine) else None
        self._sessions = sessions
        self._workspace = workspace
        self._lineage = lineage  # the runs this one replays: their claims are its own

    def claim(self, scope: str, key: str, run_id: str) -> str | None:
        if self._engine is None:  # sessions bound to a connection of a caller's transaction
            with self._sessions() as s:
                owner = self._claim(s.connection(), scope, key, int(run_id))
                s.commit()
        else:
            with self._engine.begin() as conn:
                owner = self._claim(conn, scope, key, int(run_id))
        if owner is None or owner == int(run_id) or owner in self._lineage:
            return None  # new; or our own claim, seen again on a retry, or the claim of the run an operator replays
        return str(owner)

    def _claim(self, conn: Connection, scope: str, key: str, run_id: int) -> int | None:
        """None when this call made the claim, else the run id that holds it."""
        row = {"workspace": self._workspace, "scope": scope, "key": key}
        if _CLAIM.first(conn, {**row, "run_id": run_id, "created_at": utcnow()}) is not None:
            return None
        return conn.execute(_OWNER, row).scalar()


class StepContext:
    def __init__(self, *, workspace: str, flow_id: str, flow_version: int, run_id: int, params: Mapping[str, Any],
                 ledger: DatabaseLedger, business_key: str | None, root_run_id: int,
                 on_respond: Callable[[int, Any, Mapping[str, str] | None], None],
                 connections: Callable[[str], Mapping[str, Any]] | None = None,
                 lookups: Callable[[str, str], Any] | None = None,
                 trading_partners: Callable[["StepContext"], TradingPartners] | None = None,
                 aggregates: Callable[["StepContext"], Aggregates] | None = None,
                 throttles: Callable[["StepContext"], Throttles] | None = None,
                 wake: Callable[[int], bool] | None = None,
                 business_events: Callable[["StepContext"], BusinessEvents] | None = None,
                 waits: Callable[["StepContext"], Waits] | None = None,
                 file_dirs: tuple[str, ...] = (), dry_run: bool = False):
        self.workspace = workspace
        self.flow_id = flow_id
        self.flow_version = flow_version
        self.run_id = str(run_id)
        self.params = params
        self.ledger = ledger
        self.node_id = ""
        self.attempt = 1
        self.branch = ""  # which of several messages a node emitted the step's message descends from (executor)
        self.in_port = "in"  # the input port the step's message came in on
        self.noted: Any = None  # what the step's node said of a message that ended at it (executor: its output)
        self._wake = wake
        self._business_key = business_key
        self._root_run_id = root_run_id
        self._on_respond = on_respond
        self._connections = connections
        self._lookups = lookups
        self._cache: dict[tuple, Any] = {}  # per run: a table row or connection read once
        # each of these reads the step (its node, its run) from this context as the run moves from node to node:
        # through a weak proxy, so that context and helper make no reference cycle, which would keep each run's
        # messages alive until the garbage collector's next pass (a loaded executor's passes were 5% of its time)
        me = weakref.proxy(self)
        # EDI partners, sequences and the sent-interchange register (runtime/trading_partners.py)
        self.trading_partners = trading_partners(me) if trading_partners is not None else None
        self.aggregates = aggregates(me) if aggregates is not None else None  # transform.aggregate's groups
        self.throttles = throttles(me) if throttles is not None else None  # control.throttle (runtime/throttles.py)
        self.business_events = business_events(me) if business_events is not None else None  # control.emit
        self.waits = waits(me) if waits is not None else None  # control.wait (runtime/waits.py)
        self.file_dirs = file_dirs  # the operator's folders connector.file may write in (CROSSDOCK_FILE_DIRS)
        self.dry_run = dry_run  # a dry run: the executor runs each node through runtime/dry_steps.py

    @property
    def business_key(self) -> str | None:
        """The run's business key (an order number), so failures can speak business."""
        return self._business_key

    def at(self, node_id: str, attempt: int, branch: str = "", in_port: str = "in") -> "StepContext":
        self.node_id, self.attempt, self.branch, self.in_port = node_id, attempt, branch, in_port
        self.noted = None
        return self

    def note(self, value: Any) -> None:
        self.noted = value

    def wake(self, run_id: str) -> bool:
        return self._wake(int(run_id)) if self._wake is not None else False

    def idempotency_key(self, business_key: str | None = None) -> str:
        # stable across retries and replays: replays share the root run when there is no business key
        key = business_key or self._business_key or f"run:{self._root_run_id}"
        raw = f"{self.workspace}/{self.flow_id}/{key}/{self.node_id}"
        if self.branch and business_key is None:  # one of several messages (edi.read's sets): a write of its own
            raw += f"/{self.branch}"
        return hashlib.sha256(raw.encode()).hexdigest()[:40]

    def respond(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        self._on_respond(status, body, headers)

    def connection(self, name: str) -> Mapping[str, Any]:
        if self._connections is None:
            raise KeyError(f"no connection named {name!r}")
        if ("connection", name) not in self._cache:
            self._cache[("connection", name)] = self._connections(name)
        return self._cache[("connection", name)]

    def lookup(self, table: str, key: str) -> Any:
        if self._lookups is None:
            return None
        if ("lookup", table, key) not in self._cache:
            self._cache[("lookup", table, key)] = self._lookups(table, key)
        return self._cache[("lookup", table, key)]

    def log(self, message: str) -> None:
        log.debug("%s run %s node %s: %s", self.flow_id, self.run_id, self.node_id, message)
