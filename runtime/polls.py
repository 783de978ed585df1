"""The poller of `event.poll` triggers: every maintenance pass polls the deployed poll nodes that are due, in any
number of processes, each node by one process at a time.

Per flow and node a `poll_cursors` row (runtime/poll_models.py) holds the watermark and a lease. A process takes
the lease with one guarded UPDATE (free or expired, and due), reads the watermark only then, fetches the records
after it (nodes/event_poll.py `fetch`) and stores their runs in the same transaction that advances the watermark,
guarded by still holding the lease (runtime/store/runs.py `start_many`): a poll that dies before that commit leaves
nothing behind and its records to whoever takes the lease after it expires; one that lost its lease to another
process commits nothing. So a restart neither misses nor repeats a record.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid

from sqlalchemy import select, update

from nodes.base import NodeError
from runtime import connections, triggers
from runtime.models import utcnow
from runtime.plan import evaluate_key
from runtime.poll_models import PollCursor
from runtime.trigger_leases import Leases
from runtime.store import runs

log = logging.getLogger(__name__)
LEASE_S = 120.0  # a poll's lease; a process that died holding it delays the node's next poll this long at most
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # this process
CURSOR = PollCursor.__table__
LEASES = Leases(PollCursor, LEASE_S)


class LeaseLost(Exception):
    """Another process took over the poll: this one's runs are not stored."""


def poll_due(rt, now: dt.datetime | None = None, holder: str = HOLDER) -> list[int]:
    """Poll every deployed poll trigger that is due and not polled elsewhere; the ids of the runs started."""
    now = now or utcnow()
    deployed = triggers.deployed(rt, {"event.poll"})
    with rt.read_sessions() as s:
        # read first, so that a pass with nothing due writes nothing (on SQLite a write waits for the write lock)
        cursors = {(w, f, n): (due, held and until is not None and until >= now) for w, f, n, due, held, until in
                   s.execute(select(CURSOR.c.workspace, CURSOR.c.flow_id, CURSOR.c.node_id, CURSOR.c.due_at,
                                    CURSOR.c.holder, CURSOR.c.lease_until))}
    started: list[int] = []
    for t in deployed:
        found = cursors.get((t.workspace, t.flow_id, t.node["id"]))
        if found is not None and (found[1] or (found[0] is not None and found[0] > now)):
            continue  # polled elsewhere, or not due
        if found is None:
            LEASES.ensure(rt, t.workspace, t.flow_id, t.node["id"], now)
        started += poll(rt, t.workspace, t.flow_id, t.version, t.node["id"], now, holder)
    return started


def poll(rt, workspace: str, flow_id: str, version: int, node_id: str, now: dt.datetime,
         holder: str = HOLDER) -> list[int]:
    """One poll of one node (whose cursor row exists), if it is due and its lease is free: the ids of the runs it
    started."""
    key = LEASES.key(workspace, flow_id, node_id)
    if not LEASES.take(rt, key, holder, now):
        return []  # polled elsewhere, or not due
    started: list[int] = []
    config: dict = {}
    try:
        node = rt.plan_for(workspace, flow_id, version).nodes[node_id]
        prepared, config = node.prepared, node.prepared.config
        with rt.read_sessions() as s:
            mark = node.module.decode(s.execute(select(CURSOR.c.watermark).where(key)).scalar())
        try:
            connection = connections.resolve(rt, workspace, config["connection"])
        except KeyError as err:
            raise NodeError("unknown_connection", str(err.args[0] if err.args else err), field="connection") from None
        until = now - dt.timedelta(seconds=config["settle_s"]) if config["settle_s"] else None
        keys = rt.keys_for(workspace, flow_id, version, node_id)
        while len(started) < config["max_per_poll"]:
            limit = min(config["batch_size"], config["max_per_poll"] - len(started))
            batch = node.module.fetch(prepared, connection, mark, until, limit)
            if not batch:
                break
            mark = batch[-1][:2]
            records = [record for _, _, record in batch]
            started += runs.start_many(
                rt, workspace, flow_id, version, records, trigger="poll", trigger_node=node_id,
                keys=[(evaluate_key(keys.business_key, r), evaluate_key(keys.sequence_key, r)) for r in records],
                then=_advance(key, holder, now, node.module.encode(mark), len(batch)))
            if len(batch) < limit:
                break
    except LeaseLost:
        log.warning("poll of %s/%s node %s: another process took over", workspace, flow_id, node_id)
        return started
    except Exception as err:  # noqa: BLE001 - one node's failure must neither stop the pass nor keep its lease
        LEASES.release_failed(rt, key, holder, now + dt.timedelta(seconds=config.get("interval_s", 60)), err,
                              f"poll of {workspace}/{flow_id} node {node_id}")
        return started
    more = bool(config) and len(started) >= config["max_per_poll"]  # a backlog: the next pass goes on with it
    LEASES.release(rt, key, holder, now if more else now + dt.timedelta(seconds=config["interval_s"]), None)
    return started


def _advance(key, holder: str, now: dt.datetime, watermark: dict, count: int):
    """The watermark's advance, inside the transaction that stores the batch's runs; LeaseLost undoes both."""
    def write(conn) -> None:
        done = conn.execute(update(CURSOR).where(key, CURSOR.c.holder == holder).values(
            watermark=watermark, records=CURSOR.c.records + count, polled_at=now, error=None,
            updated_at=now)).rowcount
        if done != 1:
            raise LeaseLost()
    return write


