"""control.wait's state (nodes.base.Waits): a `waits` row per run waiting at a wait node for a key, and a
`wait_arrivals` row per arrival (runtime/wait_models.py). The waiting run itself is parked by the executor
(nodes.base.Wait); this module decides, in the database, which arrival completes which wait.

An arrival completes one wait: the oldest run waiting for its key at that node whose deadline has not passed. With
nobody waiting it is held for the node's `hold_arrival_s`, and the first wait for its key within the hold takes it;
past the hold, maintenance (`sweep`) makes it an `unmatched_arrival` dead letter. Both sides first commit their own
row, then look for the other's and match with guarded UPDATEs (the wait row first, then the arrival's, in that
order on both sides), so whichever looks last finds the other, and a match is made once.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from flows import graph
from runtime.models import FlowVersion, utcnow
from runtime.store import letters
from runtime.wait_models import WaitArrival, WaitRow

if TYPE_CHECKING:
    from runtime.wiring import Runtime

log = logging.getLogger(__name__)
WAITS = WaitRow.__table__
ARRIVALS = WaitArrival.__table__
RETAIN = dt.timedelta(days=7)  # finished waits and arrivals kept this long after, for operators; then pruned
PRUNE_EVERY_S = 600.0  # a maintenance pass deletes them this often, not on every pass (a write on each)
_next_prune = [0.0]
CANDIDATES = 20  # rows one look considers: more than that racing for one key is past what a wait is for
_DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}


class StepWaits:
    """`ctx.waits` of a running step: the step's workspace, flow, node and run (read from its StepContext when
    called, as the step moves from node to node)."""

    def __init__(self, rt: Runtime, ctx):
        self._rt, self._ctx = rt, ctx

    # --- the waiting side
    def wait(self, key: str, timeout_s: float) -> Mapping[str, Any]:
        now = utcnow()
        ctx = self._ctx
        where = self._scope(WAITS) + [WAITS.c.key == key, WAITS.c.run_id == int(ctx.run_id)]
        with self._rt.sessions.begin() as s:
            _insert_new(s.connection(), WAITS, {
                "workspace": ctx.workspace, "flow_id": ctx.flow_id, "node_id": ctx.node_id, "key": key,
                "run_id": int(ctx.run_id), "status": "waiting", "deadline": now + dt.timedelta(seconds=timeout_s),
                "created_at": now, "updated_at": now})
        for _ in range(3):  # each turn moves the row on, or finds a racing arrival moved it
            row = self._one(select(WAITS).where(*where))
            if row.status == "waiting" and row.deadline > now:
                if not self._take_held(row, now):
                    break
            elif row.status == "waiting":
                self._move(WAITS, row.id, "waiting", status="timed_out", updated_at=now)
            elif row.status == "matched":
                self._move(WAITS, row.id, "matched", status="completed", updated_at=now)
            else:
                break
        row = self._one(select(WAITS).where(*where))
        if row.status == "matched":  # an arrival matched it just now
            self._move(WAITS, row.id, "matched", status="completed", updated_at=now)
            row = self._one(select(WAITS).where(*where))
        return {"status": row.status, "arrival": row.arrival, "deadline": _iso(row.deadline),
                "waited_s": round((now - row.created_at).total_seconds(), 3),
                "remaining_s": max(0.0, (row.deadline - now).total_seconds())}

    def _take_held(self, row, now: dt.datetime) -> bool:
        """Match `row` with the oldest arrival held for its key; whether a match was made."""
        held = self._all(select(ARRIVALS.c.id, ARRIVALS.c.ref, ARRIVALS.c.arrival).where(
            *self._scope(ARRIVALS), ARRIVALS.c.key == row.key, ARRIVALS.c.status == "held",
            ARRIVALS.c.held_until >= now).order_by(ARRIVALS.c.id).limit(CANDIDATES))
        return any(self._match(row.id, row.run_id, a.id, a.ref, a.arrival, now) for a in held)

    # --- the arrival side
    def arrive(self, key: str, arrival: Any, hold_s: float) -> Mapping[str, Any]:
        now = utcnow()
        ctx = self._ctx
        ref = f"{ctx.run_id}:{getattr(ctx, 'branch', '')}"[:120]
        mine = select(ARRIVALS).where(*self._scope(ARRIVALS), ARRIVALS.c.ref == ref)
        with self._rt.sessions.begin() as s:
            _insert_new(s.connection(), ARRIVALS, {
                "workspace": ctx.workspace, "flow_id": ctx.flow_id, "version": ctx.flow_version,
                "node_id": ctx.node_id, "key": key, "ref": ref, "run_id": int(ctx.run_id), "arrival": arrival,
                "status": "held", "held_until": now + dt.timedelta(seconds=hold_s), "created_at": now})
        row = self._one(mine)
        if row.status == "held":
            waiting = self._all(select(WAITS.c.id, WAITS.c.run_id).where(
                *self._scope(WAITS), WAITS.c.key == row.key, WAITS.c.status == "waiting",
                WAITS.c.deadline > now).order_by(WAITS.c.id).limit(CANDIDATES))
            if not any(self._match(w.id, w.run_id, row.id, row.ref, row.arrival, now) for w in waiting) \
                    and row.held_until <= now:  # no hold: nobody waits now, and nobody will get it
                self._move(ARRIVALS, row.id, "held", status="unmatched")
            row = self._one(mine)
        receipt: dict[str, Any] = {"key": row.key, "age_s": round((now - row.created_at).total_seconds(), 3)}
        if row.status == "taken":
            receipt["delivered_to"] = str(row.taken_by)
            receipt["wait_status"] = self._scalar(select(WAITS.c.status).where(
                *self._scope(WAITS), WAITS.c.run_id == row.taken_by, WAITS.c.arrival_ref == row.ref))
        elif row.status == "held":
            receipt["held_until"] = _iso(row.held_until)
        else:
            receipt["unmatched"] = True
        return receipt

    # --- both
    def _match(self, wait_id: int, run_id: int, arrival_id: int, ref: str, arrival: Any, now: dt.datetime) -> bool:
        """One guarded UPDATE of the wait (waiting, deadline not passed), then one of the arrival (held): both, or
        neither. The wait row is always updated first, on both sides, so two matches never lock in turn."""
        with self._rt.sessions() as s:
            done = s.execute(update(WAITS).where(WAITS.c.id == wait_id, WAITS.c.status == "waiting",
                                                 WAITS.c.deadline > now).values(
                status="matched", arrival=arrival, arrival_ref=ref, updated_at=now)).rowcount
            if done == 1 and s.execute(update(ARRIVALS).where(ARRIVALS.c.id == arrival_id,
                                                              ARRIVALS.c.status == "held").values(
                    status="taken", taken_by=run_id)).rowcount == 1:
                s.commit()
                return True
            s.rollback()
            return False

    def _scope(self, table) -> list:
        ctx = self._ctx
        return [table.c.workspace == ctx.workspace, table.c.flow_id == ctx.flow_id, table.c.node_id == ctx.node_id]

    def _move(self, table, row_id: int, current: str, **values) -> bool:
        with self._rt.sessions.begin() as s:
            return s.execute(update(table).where(table.c.id == row_id, table.c.status == current)
                             .values(**values)).rowcount == 1

    def _one(self, query):
        with self._rt.sessions() as s:  # the primary: a read replica could miss the row just written
            return s.execute(query).one()

    def _all(self, query) -> list:
        with self._rt.sessions() as s:
            return s.execute(query).all()

    def _scalar(self, query):
        with self._rt.sessions() as s:
            return s.execute(query).scalar()


def sweep(rt: Runtime, now: dt.datetime | None = None) -> int:
    """Maintenance: each arrival held past its hold becomes an `unmatched_arrival` dead letter (once, whichever
    process finds it); finished waits and arrivals older than RETAIN are deleted. How many dead letters."""
    now = now or utcnow()
    with rt.read_sessions() as s:  # read first: a pass with nothing overdue writes nothing
        overdue = s.execute(select(ARRIVALS).where(ARRIVALS.c.status == "held", ARRIVALS.c.held_until < now)
                            .order_by(ARRIVALS.c.id).limit(500)).all()
    made = 0
    for a in overdue:
        with rt.sessions.begin() as s:
            conn = s.connection()
            if conn.execute(update(ARRIVALS).where(ARRIVALS.c.id == a.id, ARRIVALS.c.status == "held")
                            .values(status="unmatched")).rowcount != 1:
                continue  # a wait took it meanwhile, or another process swept it
            held = round((a.held_until - a.created_at).total_seconds())
            letters.add(conn, [{"workspace": a.workspace, "run_id": a.run_id, "flow_id": a.flow_id,
                                "version": a.version, "node_id": a.node_id, "error_class": "business",
                                "code": "unmatched_arrival", "payload": a.arrival,
                                "message": f"an arrival for {a.key} came at {_iso(a.created_at)} and no run "
                                           f"waited for it within its hold of {held} s"}])
            made += 1
    if made:
        log.warning("%d arrival(s) at control.wait nodes found no waiting run: dead letters", made)
    if time.monotonic() < _next_prune[0]:
        return made
    _next_prune[0] = time.monotonic() + PRUNE_EVERY_S
    old = now - RETAIN
    with rt.sessions.begin() as s:
        s.execute(delete(WAITS).where(WAITS.c.status.in_(("completed", "timed_out")), WAITS.c.updated_at < old))
        s.execute(delete(ARRIVALS).where(ARRIVALS.c.status.in_(("taken", "unmatched")), ARRIVALS.c.created_at < old))
    return made


# --- which triggers bring arrivals: their runs get no sequence key
_arrival_triggers: OrderedDict[tuple, frozenset[str]] = OrderedDict()
_lock = threading.Lock()
WAIT_TYPE = "control.wait"
AGGREGATE_TYPE, SPLIT_TYPE = "transform.aggregate", "transform.split"


def arrival_triggers(doc: dict) -> frozenset[str]:
    """The trigger nodes of a flow document whose runs bring something to a run parked at another node: an
    arrival to a control.wait's `arrival` port, or a part to a transform.aggregate not behind a transform.split
    (a split's parts are gathered within their own run; without one the parts come in runs of their own)."""
    nodes = {n.get("id"): n for n in doc.get("nodes") or [] if isinstance(n, dict)}
    enabled = {i for i, n in nodes.items() if not n.get("disabled")}
    waits = {i for i in enabled if nodes[i].get("type") == WAIT_TYPE}
    gathers = {i for i in enabled if nodes[i].get("type") == AGGREGATE_TYPE}
    if not waits and not gathers:
        return frozenset()
    succ = graph.successors(doc)
    by_node: dict[str, list[tuple[str, str]]] = {}
    for (source, _port), targets in succ.items():
        by_node.setdefault(source, []).extend(targets)
    found = set()
    for start, node in nodes.items():
        if not str(node.get("type", "")).startswith("event.") or start not in enabled:
            continue
        seen, todo = {start}, [start]
        while todo and start not in found:
            for target, in_port in by_node.get(todo.pop(), ()):
                if (target in waits and in_port == "arrival") or target in gathers:
                    found.add(start)
                    break
                if target not in seen and nodes.get(target, {}).get("type") != SPLIT_TYPE:
                    seen.add(target)
                    todo.append(target)
    return frozenset(found)


def unsequenced(rt: Runtime, workspace: str, flow_id: str, version: int, trigger_node: str | None) -> bool:
    """Whether a run started by `trigger_node` must get no sequence key: it brings an arrival to a control.wait (or
    a part to a transform.aggregate), and a run of its key parked there would hold it back until it timed out (runtime/store/claims.py
    claims a run only when no earlier run of its key is open). Read once per version and process."""
    if not trigger_node:
        return False
    cache_key = (str(rt.engine.url), rt.settings.database_schema, workspace, flow_id, version)
    with _lock:
        found = _arrival_triggers.get(cache_key)
    if found is None:
        with rt.read_sessions() as s:
            doc = s.execute(select(FlowVersion.document).where(
                FlowVersion.workspace == workspace, FlowVersion.flow_id == flow_id,
                FlowVersion.version == version)).scalar()
        found = arrival_triggers(doc if isinstance(doc, dict) else {})
        with _lock:
            _arrival_triggers[cache_key] = found
            while len(_arrival_triggers) > 1024:
                _arrival_triggers.popitem(last=False)
    return trigger_node in found


def _insert_new(conn, table, row: dict) -> None:
    conn.execute(_DIALECTS[conn.dialect.name].insert(table).values(**row).on_conflict_do_nothing())


def _iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="milliseconds") + "Z"
