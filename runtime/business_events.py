"""Business events between flows (control.emit, event.subscribe): an emitting step stores the event and one run of
every deployed subscribing flow of its workspace, with a delivery row naming that run, in one transaction, and only
then enqueues the runs (RQ on Redis in production, the in-process queue embedded). A process that dies after the
commit leaves the runs `queued`, where the lost-job sweep (runtime/jobs.py requeue_lost) finds them; one that dies
before it leaves nothing, and the step's retry emits again. The event's idempotency key is the step's (workspace,
flow, root run, node, branch), unique per workspace, so a retried or replayed step finds its event instead of
delivering twice. A chain of flows emitting what starts the next is cut at MAX_HOPS (a loop).

The run rows are the run store's own INSERT (runtime/store/runs.py); they are written here because several flows'
runs and the event rows must commit together, which start_many (one flow) does not offer.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from nodes.base import BUSINESS, TECHNICAL, NodeError
from nodes.control_emit import MAX_HOPS
from nodes.event_subscribe import matches
from runtime import triggers
from runtime.event_models import BusinessEvent, EventDelivery
from runtime.models import Run, utcnow
from runtime.plan import evaluate_key
from runtime.states import RunStatus
from runtime.store import runs

if TYPE_CHECKING:
    from runtime.context import StepContext
    from runtime.wiring import Runtime

SUBSCRIBE = "event.subscribe"
MAX_SUBSCRIBERS = 100  # subscribing nodes one event may start; more is refused, never cut short
EVENTS = BusinessEvent.__table__
DELIVERIES = EventDelivery.__table__
_INSERTS = {name: dialect.insert(EVENTS).on_conflict_do_nothing().returning(EVENTS.c.id)
            for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


class StepEvents:
    """nodes.base.BusinessEvents for one run's steps: the step's node and branch are read from its context when
    it emits; `root_run_id` is the run this one replays, or itself (replays share their first emission)."""

    def __init__(self, rt: Runtime, step: StepContext, root_run_id: int):
        self._rt, self._step, self._root = rt, step, int(root_run_id)

    def emit(self, name: str, key: str | None, payload: Any) -> dict:
        step = self._step
        key = key if key is not None else step.business_key
        size = len(json.dumps(payload, default=str).encode())
        if size > self._rt.settings.step_payload_max:
            raise NodeError("payload_too_large", f"the event's payload is {size:,} bytes of JSON, over the limit of "
                            f"{self._rt.settings.step_payload_max:,}", field="payload")
        raw = f"{step.workspace}/{step.flow_id}/run:{self._root}/{step.node_id}/{step.branch}"
        try:
            return publish(self._rt, step.workspace, name, key, payload, source={
                "flow": step.flow_id, "version": step.flow_version, "run": int(step.run_id), "node": step.node_id},
                idempotency_key=hashlib.sha256(raw.encode()).hexdigest()[:40], cause_runs=(int(step.run_id), self._root))
        except SQLAlchemyError as err:  # the database away: nothing or all of it was stored; the retry finds out
            raise NodeError("events_unavailable", f"the event could not be stored: {type(err).__name__}",
                            error_class=TECHNICAL, retryable=True) from None


def publish(rt: Runtime, workspace: str, name: str, key: str | None, payload: Any, *, source: dict,
            idempotency_key: str, cause_runs: tuple[int, ...] = ()) -> dict:
    """Store the event and its delivery runs (once per idempotency key) and enqueue the runs; the receipt."""
    found = _receipt(rt, workspace, idempotency_key)
    if found is not None:
        return _again(rt, found)
    hops = _hops(rt, workspace, cause_runs) + 1
    if hops > MAX_HOPS:
        raise NodeError("event_loop", f"{name} would be event {hops} of a chain of flows each started by the event "
                        f"of the one before (at most {MAX_HOPS}): a loop between flows?", error_class=BUSINESS,
                        field="event", details={"hops": hops, "limit": MAX_HOPS})
    subscribers = sorted((t for t in triggers.deployed(rt, {SUBSCRIBE}, workspace)
                          if matches(str((t.node.get("config") or {}).get("event")), name)),
                         key=lambda t: (t.flow_id, t.node["id"]))
    if len(subscribers) > MAX_SUBSCRIBERS:
        raise NodeError("too_many_subscribers", f"{len(subscribers)} subscribing nodes take {name}, over the limit of "
                        f"{MAX_SUBSCRIBERS}", field="event")
    now = utcnow()
    event = {"workspace": workspace, "name": name, "key": key, "payload": payload, "flow_id": source["flow"],
             "flow_version": source["version"], "run_id": source["run"], "node_id": source["node"],
             "idempotency_key": idempotency_key, "hops": hops, "subscribers": len(subscribers), "created_at": now}
    envelope = {"id": None, "name": name, "key": key, "hops": hops, "emitted_by": source,
                "emitted_at": now.isoformat() + "Z", "payload": payload}
    planned = []
    for t in subscribers:
        message = envelope if (t.node.get("config") or {}).get("envelope") is True else payload
        keys = rt.keys_for(workspace, t.flow_id, t.version, t.node["id"])
        planned.append((t, message, evaluate_key(keys.business_key, message) or key,
                        evaluate_key(keys.sequence_key, message)))

    def work(conn: Connection) -> tuple[int | None, list[tuple[int, Any]]]:
        event_id = conn.execute(_INSERTS[conn.dialect.name], event).scalar()
        if event_id is None:  # the same step emitting at the same time elsewhere (a taken-over run) won
            return None, []
        started = []
        for t, message, business, sequence in planned:
            if message is envelope:
                message = {**envelope, "id": event_id}
            run_id = runs.INSERT.insert(conn, {
                **runs.new_row(workspace, t.flow_id, t.version, trigger="event", trigger_node=t.node["id"],
                               business_key=business, sequence_key=sequence, created_at=now), "input": message})
            conn.execute(DELIVERIES.insert(), {"event_id": event_id, "workspace": workspace, "flow_id": t.flow_id,
                                               "flow_version": t.version, "node_id": t.node["id"], "run_id": run_id,
                                               "created_at": now})
            started.append((run_id, business))
        return event_id, started

    event_id, started = rt.writer.write(work)
    if event_id is None:
        return _again(rt, _receipt(rt, workspace, idempotency_key))
    for (run_id, business), (t, *_rest) in zip(started, planned):
        rt.events.publish("run.queued", {"workspace": workspace, "flow_id": t.flow_id, "run_id": run_id,
                                         "version": t.version, "status": "queued", "business_key": business})
    run_ids = [run_id for run_id, _ in started]
    runs.enqueue_all(rt, run_ids, f"delivered event {name} #{event_id}")
    return {"id": event_id, "name": name, "key": key, "hops": hops, "subscribers": len(run_ids), "runs": run_ids,
            "duplicate": False}


def _receipt(rt: Runtime, workspace: str, idempotency_key: str) -> dict | None:
    """The receipt of the event stored under the key, or None."""
    with rt.read_sessions() as s:
        event = s.execute(select(EVENTS.c.id, EVENTS.c.name, EVENTS.c.key, EVENTS.c.hops).where(
            EVENTS.c.workspace == workspace, EVENTS.c.idempotency_key == idempotency_key)).first()
        if event is None:
            return None
        run_ids = list(s.scalars(select(DELIVERIES.c.run_id).where(DELIVERIES.c.event_id == event.id)
                                 .order_by(DELIVERIES.c.id)))
    return {"id": event.id, "name": event.name, "key": event.key, "hops": event.hops, "subscribers": len(run_ids),
            "runs": run_ids, "duplicate": True}


def _again(rt: Runtime, receipt: dict) -> dict:
    """A step that emitted before (a retry, a takeover, a replay): its runs are stored; they are given a job again
    in case the process that stored them died before it enqueued them (a duplicate job does nothing)."""
    runs.enqueue_all(rt, _still_queued(rt, receipt["runs"]), f"event #{receipt['id']} emitted again")
    return receipt


def _still_queued(rt: Runtime, run_ids: list[int]) -> list[int]:
    if not run_ids:
        return []
    with rt.read_sessions() as s:
        return list(s.scalars(select(Run.id).where(Run.id.in_(run_ids), Run.status == RunStatus.QUEUED.value,
                                                   Run.attempt == 0)))


def _hops(rt: Runtime, workspace: str, run_ids: tuple[int, ...]) -> int:
    """How many events led to these runs: the hops of the event whose delivery started them, else 0."""
    if not run_ids:
        return 0
    with rt.read_sessions() as s:
        return s.scalar(select(func.max(EVENTS.c.hops)).select_from(DELIVERIES.join(
            EVENTS, EVENTS.c.id == DELIVERIES.c.event_id)).where(
            DELIVERIES.c.workspace == workspace, DELIVERIES.c.run_id.in_(list(set(run_ids))))) or 0


# --- reading, for the events API

def recent(rt: Runtime, workspace: str, *, name: str | None = None, key: str | None = None, before: int | None = None,
           limit: int = 50) -> list[dict]:
    """The workspace's events, newest first (`name` exact or `subject.*`; `before` an event id, for the next
    page), each with its deliveries and the status of their runs (None once a run is pruned)."""
    query = select(BusinessEvent).where(BusinessEvent.workspace == workspace)
    if name:
        query = query.where(BusinessEvent.name.startswith(name[:-1], autoescape=True) if name.endswith(".*")
                            else BusinessEvent.name == name)
    if key is not None:
        query = query.where(BusinessEvent.key == key)
    if before is not None:
        query = query.where(BusinessEvent.id < before)
    with rt.read_sessions() as s:
        events = list(s.scalars(query.order_by(BusinessEvent.id.desc()).limit(limit)))
        deliveries = s.execute(select(EventDelivery, Run.status).outerjoin(Run, Run.id == EventDelivery.run_id).where(
            EventDelivery.event_id.in_([e.id for e in events])).order_by(EventDelivery.id)).all() if events else []
    by_event: dict[int, list[dict]] = {}
    for d, status in deliveries:
        by_event.setdefault(d.event_id, []).append({
            "flow_id": d.flow_id, "version": d.flow_version, "node_id": d.node_id, "run_id": d.run_id,
            "status": status})
    return [{"id": e.id, "name": e.name, "key": e.key, "payload": e.payload, "hops": e.hops,
             "emitted_by": {"flow": e.flow_id, "version": e.flow_version, "run": e.run_id, "node": e.node_id},
             "created_at": _iso(e.created_at), "subscribers": e.subscribers, "deliveries": by_event.get(e.id, [])}
            for e in events]


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() + "Z" if at is not None else None


def prune(rt: Runtime, cutoff: dt.datetime | None = None, batch: int = 500) -> int:
    """Events stored before `cutoff` (default: the age past which runs are pruned, CROSSDOCK_RETENTION_DAYS), with
    their deliveries, in short batches."""
    cutoff = cutoff or utcnow() - dt.timedelta(days=rt.settings.retention_days)
    pruned = 0
    while True:
        with rt.read_sessions() as s:
            ids = list(s.scalars(select(EVENTS.c.id).where(EVENTS.c.created_at < cutoff).limit(batch)))
        if not ids:
            return pruned
        with rt.sessions.begin() as s:
            s.execute(delete(EventDelivery).where(EventDelivery.event_id.in_(ids)))
            s.execute(delete(BusinessEvent).where(BusinessEvent.id.in_(ids)))
        pruned += len(ids)
