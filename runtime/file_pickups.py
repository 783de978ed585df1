"""The watcher of `event.file` triggers: every maintenance pass lists the folders of the deployed file triggers that
are due, in any number of processes, each node by one process at a time, and turns the files that settled into runs.

Per flow and node a `file_watches` row (runtime/file_models.py) holds a lease, taken with one guarded UPDATE like
runtime/polls.py's. Per file a `file_pickups` ledger row goes settling (seen, size and mtime noted) -> taken (its runs
stored, in the same transaction that marks it, guarded by still holding the lease: runtime/store/runs.py
`start_many`) -> archived, or failed when the whole file was unreadable (moved to the error folder). A process that
dies before the runs commit leaves the file settling, taken again later; one that dies after leaves it taken, and the
next listing only moves it, starting no run again. So a restart neither loses nor repeats a file.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid

from sqlalchemy import delete, select, update

from nodes import file_paths, file_stores
from nodes.base import NodeError
from runtime import connections, egress, triggers
from runtime.file_models import ARCHIVED, FAILED, SETTLING, TAKEN, FilePickup, FileWatch
from runtime.models import utcnow
from runtime.plan import evaluate_key
from runtime.store import runs
from runtime.trigger_leases import Leases

log = logging.getLogger(__name__)
LEASE_S = 300.0  # a listing's lease; a process that died holding it delays the node's next listing this long at most
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # this process
WATCH = FileWatch.__table__
LEASES = Leases(FileWatch, LEASE_S)
PICKUP = FilePickup.__table__
TYPE = "event.file"


class LeaseLost(Exception):
    """Another process took over the folder: this one's runs are not stored."""


def pick_due(rt, now: dt.datetime | None = None, holder: str = HOLDER) -> list[int]:
    """List every deployed file trigger that is due and not listed elsewhere; the ids of the runs started."""
    now = now or utcnow()
    found = triggers.deployed(rt, (TYPE,))
    if not found:
        return []
    with rt.read_sessions() as s:  # read first, so that a pass with nothing due writes nothing
        watches = {(w, f, n): (due, held and until is not None and until >= now) for w, f, n, due, held, until in
                   s.execute(select(WATCH.c.workspace, WATCH.c.flow_id, WATCH.c.node_id, WATCH.c.due_at,
                                    WATCH.c.holder, WATCH.c.lease_until))}
    started: list[int] = []
    for trigger in found:
        node_id = trigger.node["id"]
        watch = watches.get((trigger.workspace, trigger.flow_id, node_id))
        if watch is not None and (watch[1] or (watch[0] is not None and watch[0] > now)):
            continue  # listed elsewhere, or not due
        if watch is None:
            LEASES.ensure(rt, trigger.workspace, trigger.flow_id, node_id, now)
        started += pick(rt, trigger.workspace, trigger.flow_id, trigger.version, node_id, now, holder)
    return started


def pick(rt, workspace: str, flow_id: str, version: int, node_id: str, now: dt.datetime,
         holder: str = HOLDER) -> list[int]:
    """One listing of one node's folder (whose watch row exists), if it is due and its lease is free: the ids of the
    runs it started."""
    key = LEASES.key(workspace, flow_id, node_id)
    if not LEASES.take(rt, key, holder, now):
        return []
    started: list[int] = []
    config: dict = {}
    more = False
    try:
        node = rt.plan_for(workspace, flow_id, version).nodes[node_id]
        config = node.prepared
        try:
            connection = connections.resolve(rt, workspace, config["connection"])
        except KeyError as err:
            raise NodeError("unknown_connection", str(err.args[0] if err.args else err), field="connection") from None
        with file_stores.opened(connection, roots=tuple(rt.settings.file_dirs), egress=egress.policy(rt, workspace),
                                timeout_s=config["timeout_s"]) as store:
            watch = _Watch(rt, workspace, flow_id, version, node, key, holder, now, store)
            started, more = watch.run()
    except LeaseLost:
        log.warning("file pickup of %s/%s node %s: another process took over", workspace, flow_id, node_id)
        return started
    except Exception as err:  # noqa: BLE001 - one node's failure must neither stop the pass nor keep its lease
        LEASES.release_failed(rt, key, holder, now + dt.timedelta(seconds=config.get("interval_s", 60)), err,
                              f"file pickup of {workspace}/{flow_id} node {node_id}")
        return started
    # files left for a later listing (more than max_files, or still settling): come back soon for them
    due = now if more else now + dt.timedelta(seconds=config["interval_s"])
    LEASES.release(rt, key, holder, due, None, checked_at=now)
    return started


class _Watch:
    """One listing of one folder, under the lease."""

    def __init__(self, rt, workspace, flow_id, version, node, key, holder, now, store):
        self.rt, self.workspace, self.flow_id, self.version = rt, workspace, flow_id, version
        self.node, self.key, self.holder, self.now, self.store = node, key, holder, now, store
        self.config = node.prepared
        self.mine = (PICKUP.c.workspace == workspace) & (PICKUP.c.flow_id == flow_id) & (PICKUP.c.node_id == node.id)

    def run(self) -> tuple[list[int], bool]:
        config = self.config
        entries = self.store.list(config["folder"], tuple(config["patterns"]))
        with self.rt.read_sessions() as s:
            rows = s.execute(select(PICKUP).where(self.mine, PICKUP.c.status.in_((SETTLING, TAKEN)))).all()
        ledger: dict[str, list] = {}
        for row in rows:
            ledger.setdefault(row.name, []).append(row)
        started: list[int] = []
        taken, more = 0, False
        settle = dt.timedelta(seconds=config["settle_s"])
        for entry in entries:
            known = ledger.pop(entry.name, [])
            same = (entry.size, entry.mtime)
            done = next((r for r in known if r.status == TAKEN and (r.size, r.mtime) == same), None)
            if done is not None:  # its runs were stored by a listing that stopped before the move
                self._finish(done.id, entry.name, done.error is not None)
                continue
            self._forget([r.id for r in known if r.status == TAKEN], "replaced in the folder before it was moved")
            settling = next((r for r in known if r.status == SETTLING), None)
            if settling is None or (settling.size, settling.mtime) != (entry.size, entry.mtime):
                row_id = self._seen(settling.id if settling is not None else None, entry)
                if settle:
                    more = True  # changed, or new: it is looked at again once it may have settled
                    continue
                settling_since = self.now
            else:
                row_id, settling_since = settling.id, settling.seen_at
            if self.now - settling_since < settle:
                more = True
                continue
            if taken >= config["max_files"]:
                more = True
                continue
            taken += 1
            started += self._take(row_id, entry)
        if self.store.listed_all:
            self._gone([r for rows_ in ledger.values() for r in rows_])
        return started, more

    def _gone(self, rows: list) -> None:
        """Rows of files no longer in the folder: one seen settling was removed by whoever put it there (nothing to
        take); one taken was moved by a listing that stopped before it could say so (or by a person)."""
        if not rows:
            return
        with self.rt.sessions.begin() as s:
            settling = [r.id for r in rows if r.status == SETTLING]
            if settling:
                s.execute(delete(PICKUP).where(PICKUP.c.id.in_(settling), PICKUP.c.status == SETTLING))
            for status, ids in ((ARCHIVED, [r.id for r in rows if r.status == TAKEN and r.error is None]),
                                (FAILED, [r.id for r in rows if r.status == TAKEN and r.error is not None])):
                if ids:
                    s.execute(update(PICKUP).where(PICKUP.c.id.in_(ids), PICKUP.c.status == TAKEN).values(
                        status=status, done_at=self.now))

    def _seen(self, row_id: int | None, entry: file_paths.Entry) -> int:
        with self.rt.sessions.begin() as s:
            if row_id is not None:
                s.execute(update(PICKUP).where(PICKUP.c.id == row_id, PICKUP.c.status == SETTLING).values(
                    size=entry.size, mtime=entry.mtime, seen_at=self.now))
                return row_id
            row = FilePickup(workspace=self.workspace, flow_id=self.flow_id, node_id=self.node.id, name=entry.name,
                             size=entry.size, mtime=entry.mtime, status=SETTLING, seen_at=self.now)
            s.add(row)
            s.flush()
            return row.id

    def _forget(self, row_ids: list[int], why: str) -> None:
        if row_ids:
            with self.rt.sessions.begin() as s:
                s.execute(update(PICKUP).where(PICKUP.c.id.in_(row_ids), PICKUP.c.status == TAKEN).values(
                    status=FAILED, error=why, done_at=self.now))

    def _take(self, row_id: int, entry: file_paths.Entry) -> list[int]:
        """Read and parse the file, store its runs with the ledger's `taken` in one transaction, then move it."""
        config = self.config
        unreadable = None
        data = None
        try:
            data = self.store.read(config["folder"], entry.name, config["max_bytes"])
        except NodeError as err:
            if err.code != "file_too_large":
                raise  # the server or folder failing: this listing stops, the file is taken at a later one
            unreadable = err.message
        file = {"name": entry.name, "folder": config["folder"], "size": entry.size,
                "mtime": dt.datetime.fromtimestamp(entry.mtime, dt.timezone.utc).isoformat()}
        made, unreadable = self.node.module.inputs(self.config, file, data, unreadable)
        keys = self.rt.keys_for(self.workspace, self.flow_id, self.version, self.node.id)
        messages = [m for m, _ in made]
        run_ids = runs.start_many(
            self.rt, self.workspace, self.flow_id, self.version, messages, trigger="file", trigger_node=self.node.id,
            keys=[(evaluate_key(keys.business_key, r), evaluate_key(keys.sequence_key, r)) if r is not None else
                  (None, None) for _, r in made],
            then=self._taken(row_id, len(made), sum(1 for m in messages if "error" in m), unreadable))
        self._finish(row_id, entry.name, unreadable is not None)
        return run_ids

    def _taken(self, row_id: int, count: int, malformed: int, unreadable: str | None):
        """The ledger's `taken` and the watch's count, inside the transaction that stores the file's runs; LeaseLost
        (or the file taken already) undoes both."""
        def write(conn) -> None:
            held = conn.execute(update(WATCH).where(self.key, WATCH.c.holder == self.holder).values(
                files=WATCH.c.files + 1, updated_at=self.now)).rowcount
            if held != 1:
                raise LeaseLost()
            marked = conn.execute(update(PICKUP).where(PICKUP.c.id == row_id, PICKUP.c.status == SETTLING).values(
                status=TAKEN, taken_at=self.now, version=self.version, runs=count, malformed=malformed,
                error=unreadable[:1000] if unreadable else None)).rowcount
            if marked != 1:
                raise LeaseLost()
        return write

    def _finish(self, row_id: int, name: str, unreadable: bool) -> None:
        """Move a taken file out of the watched folder; when the move fails it stays taken, and the next listing
        moves it (its runs are not started again)."""
        folder = self.config["error_folder"] if unreadable else self.config["archive_folder"]
        moved = self.store.move(self.config["folder"], name, folder)
        with self.rt.sessions.begin() as s:
            s.execute(update(PICKUP).where(PICKUP.c.id == row_id, PICKUP.c.status == TAKEN).values(
                status=FAILED if unreadable else ARCHIVED, moved_to=moved[:1000], done_at=self.now))


