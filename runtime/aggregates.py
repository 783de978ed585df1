"""transform.aggregate's groups in the database (nodes.base.Aggregates): parts stored once each, whatever process or
retry brings them, and a group closed once, so that a worker restart loses nothing and the result is decided once.

A group is opened by its first part; the run and position of that part own it: only that message emits the result
(nodes/transform_aggregate.py). Each part is stored in one transaction that inserts it (unique on group and position:
a redelivery is no second part) and counts it on the group row only while the group is `open`. The owner closes the
group with one guarded UPDATE on that row: `complete` when every part is in, `timed_out` when the deadline passed
first. Both UPDATEs take the group row, so a part and the timeout never both win (PostgreSQL re-checks the WHERE on
the row it waited for; SQLite writes one at a time).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any, Collection

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from nodes.base import TECHNICAL, Gathered, NodeError
from runtime.aggregate_models import AggregateGroup, AggregatePart
from runtime.models import utcnow

GROUPS = AggregateGroup.__table__
PARTS = AggregatePart.__table__
OPEN, COMPLETE, TIMED_OUT = "open", "complete", "timed_out"
_GROUP_COLUMNS = ("workspace", "flow_id", "node_id", "correlation", "expected", "received", "status", "owner_run",
                  "owner_position", "deadline", "opened_at")
_OPEN_GROUP = {name: d.insert(GROUPS).values({c: bindparam(c) for c in _GROUP_COLUMNS}).on_conflict_do_nothing()
               for name, d in (("postgresql", postgresql), ("sqlite", sqlite))}
_ADD_PART = {name: d.insert(PARTS).values({c: bindparam(c) for c in (
    "group_id", "position", "workspace", "run_id", "part", "created_at")}).on_conflict_do_nothing().returning(
    PARTS.c.position) for name, d in (("postgresql", postgresql), ("sqlite", sqlite))}
_FIND = select(GROUPS).where(GROUPS.c.workspace == bindparam("workspace"), GROUPS.c.flow_id == bindparam("flow_id"),
                             GROUPS.c.node_id == bindparam("node_id"), GROUPS.c.correlation == bindparam("correlation"))
_COUNT = (update(GROUPS).where(GROUPS.c.id == bindparam("group_id"), GROUPS.c.status == OPEN)
          .values(received=GROUPS.c.received + 1).returning(GROUPS.c.received))


def gather(engine: Engine, workspace: str, flow_id: str, node_id: str, run_id: int, correlation: str,
           position: int, count: int, part: Any, timeout_s: float, now: dt.datetime | None = None,
           replays: Collection[int] = ()) -> Gathered:
    """Aggregates.gather for one step (see nodes/base.py). `replays`: the runs this run replays (its lineage); the
    owner's part replayed is the owner's, so a replay of the run that emitted a result emits it again."""
    now = now or utcnow()
    if not 0 <= position < count:
        raise NodeError("position_out_of_range", f"part {position} of group {correlation!r} is outside 0..{count - 1}",
                        field="index", details={"correlation": correlation, "index": position, "count": count})
    key = {"workspace": workspace, "flow_id": flow_id, "node_id": node_id, "correlation": correlation}
    with engine.begin() as conn:
        group = conn.execute(_FIND, key).first()
        if group is None:  # the first part opens the group; of two at once, one INSERT wins and both read its row
            conn.execute(_OPEN_GROUP[conn.dialect.name], {
                **key, "expected": count, "received": 0, "status": OPEN, "owner_run": run_id,
                "owner_position": position, "deadline": now + dt.timedelta(seconds=timeout_s), "opened_at": now})
            group = conn.execute(_FIND, key).one()
        if group.expected != count:
            raise NodeError("count_mismatch", f"group {correlation!r} expects {group.expected} parts; this part says "
                            f"{count}", field="count", details={"correlation": correlation, "expected": group.expected,
                                                                "count": count})
        stored = conn.execute(_ADD_PART[conn.dialect.name], {
            "group_id": group.id, "position": position, "workspace": workspace, "run_id": run_id, "part": part,
            "created_at": now}).first() is not None
        received = group.received
        if stored:
            received = conn.execute(_COUNT, {"group_id": group.id}).scalar()
            if received is None:  # closed meanwhile: the part is not stored (the exception rolls back its insert)
                raise _closed(correlation, position, conn.execute(select(GROUPS.c.status).where(
                    GROUPS.c.id == group.id)).scalar())
    owner = group.owner_position == position and (group.owner_run == run_id or group.owner_run in replays)
    found = Gathered(group=str(group.id), status=group.status, owner=owner, owner_run=str(group.owner_run),
                     stored=stored, completed=stored and received == count, received=received)
    if not owner:
        return found
    return _settle(engine, group.id, found, now)


def _settle(engine: Engine, group_id: int, found: Gathered, now: dt.datetime) -> Gathered:
    """The owner's look at its group: closed now if complete or past its deadline; its parts once closed."""
    with engine.begin() as conn:
        conn.execute(update(GROUPS).where(GROUPS.c.id == group_id, GROUPS.c.status == OPEN,
                                          GROUPS.c.received == GROUPS.c.expected)
                     .values(status=COMPLETE, closed_at=now))
        conn.execute(update(GROUPS).where(GROUPS.c.id == group_id, GROUPS.c.status == OPEN,
                                          GROUPS.c.received < GROUPS.c.expected, GROUPS.c.deadline <= now)
                     .values(status=TIMED_OUT, closed_at=now))
        group = conn.execute(select(GROUPS).where(GROUPS.c.id == group_id)).one()
        if group.status == OPEN:
            return replace(found, status=OPEN, received=group.received,
                            wait_s=max(0.0, (group.deadline - now).total_seconds()),
                            age_s=max(0.0, (now - group.opened_at).total_seconds()))
        parts = conn.execute(select(PARTS.c.position, PARTS.c.part).where(PARTS.c.group_id == group_id)
                             .order_by(PARTS.c.position)).all()
    have = {p.position for p in parts}
    return replace(found, status=group.status, received=len(parts), parts=[p.part for p in parts],
                    missing=[i for i in range(group.expected) if i not in have])


def _closed(correlation: str, position: int, status: str) -> NodeError:
    return NodeError("group_closed", f"part {position} came after group {correlation!r} was emitted "
                     f"({'timed out' if status == TIMED_OUT else status}); it is in no result",
                     field="correlation", details={"correlation": correlation, "index": position, "status": status})


class StepAggregates:
    """`ctx.aggregates` of a running step: the groups of its flow and node, owned by its run (or the run it replays).
    A database that does not answer is a technical, retried failure of the step, never a lost part."""

    def __init__(self, rt, step, replays: Collection[int] = ()):
        self._rt, self._step, self._replays = rt, step, frozenset(replays)

    def gather(self, correlation: str, position: int, count: int, part: Any, timeout_s: float) -> Gathered:
        step = self._step
        try:
            return gather(self._rt.engine, step.workspace, step.flow_id, step.node_id, int(step.run_id), correlation,
                          position, count, part, timeout_s, replays=self._replays)
        except OperationalError as err:
            raise NodeError("database_unavailable", f"the aggregate's groups cannot be read or written: "
                            f"{type(err.orig).__name__}", error_class=TECHNICAL, retryable=True) from None


def prune(rt, cutoff: dt.datetime | None = None, batch: int = 500) -> int:
    """Groups closed before `cutoff` (default: the age past which runs are pruned, CROSSDOCK_RETENTION_DAYS), and
    groups still open that long after their deadline (their owner's run never came back), with their parts, in short
    batches. A correlation id of a pruned group opens a new group."""
    cutoff = cutoff or utcnow() - dt.timedelta(days=rt.settings.retention_days)
    pruned = 0
    while True:
        with rt.read_sessions() as s:
            ids = list(s.scalars(select(GROUPS.c.id).where(
                (GROUPS.c.closed_at < cutoff) | (GROUPS.c.deadline < cutoff)).limit(batch)))
        if not ids:
            return pruned
        with rt.sessions.begin() as s:
            s.execute(delete(PARTS).where(PARTS.c.group_id.in_(ids)))
            s.execute(delete(GROUPS).where(GROUPS.c.id.in_(ids)))
        pruned += len(ids)
