"""Creating runs: one place stores a new run and enqueues its job, for every trigger (webhook, manual,
schedule, replay). The row is committed (group commit, runtime/store/writer.py) before the job is
enqueued and before the caller answers, so an accepted message is never lost; a queue that does not
take the job is logged, and the run waits `queued` until maintenance (runtime/jobs.py requeue_lost)
finds it without a job and enqueues it again.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection

from runtime import metrics
from runtime.db import JsonText
from runtime.models import Run, utcnow
from runtime.states import RunStatus
from runtime.store.statements import Prepared

if TYPE_CHECKING:
    from runtime.wiring import Runtime

log = logging.getLogger(__name__)
INSERT = Prepared(Run.__table__.insert())
WAKE = update(Run).where(Run.id == bindparam("run_id"), Run.status == RunStatus.QUEUED.value,
                         Run.checkpoint.is_not(None)).values(not_before=bindparam("now"))


class Started:
    """A run just stored, as `start` gives it back: the values of its new row (and its id and input) as
    attributes, any other column of a run None, as on a new Run. Not an ORM Run: building one per intake
    (SQLAlchemy's instrumentation of each attribute) was ~50 us of a webhook request's CPU."""
    def __init__(self, values: dict):
        self.__dict__ = values

    def __getattr__(self, name: str):
        if name in _COLUMNS:
            return None
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"Started(id={self.__dict__.get('id')!r}, flow_id={self.__dict__.get('flow_id')!r})"


_COLUMNS = frozenset(Run.__table__.columns.keys())


def new_row(workspace: str, flow_id: str, version: int, *, trigger: str, trigger_node: str | None = None,
            business_key: str | None = None, sequence_key: str | None = None, replay_of: int | None = None,
            start_node: str | None = None, dry_run: bool = False, created_at=None) -> dict:
    """A new `queued` run's row but its input, every column given (INSERT is prepared without Python defaults:
    a column left out would be refused)."""
    return {"workspace": workspace, "flow_id": flow_id, "version": version, "status": RunStatus.QUEUED.value,
            "trigger": trigger, "trigger_node": trigger_node, "business_key": business_key,
            "sequence_key": sequence_key, "attempt": 0, "takeovers": 0, "replay_of": replay_of,
            "start_node": start_node, "created_at": created_at or utcnow(), "dry_run": dry_run}


def start(rt: Runtime, workspace: str, flow_id: str, version: int, message: Any, *, trigger: str,
          trigger_node: str | None = None, business_key: str | None = None, sequence_key: str | None = None,
          replay_of: int | None = None, start_node: str | None = None, input_text: str | None = None,
          dry_run: bool = False) -> Started:
    """Store a new `queued` run, announce it (`run.queued`) and enqueue its job. `input_text`: the
    message's JSON, when the caller has it, stored as it is. `dry_run`: it performs no side effect."""
    row = new_row(workspace, flow_id, version, trigger=trigger, trigger_node=trigger_node, business_key=business_key,
                  sequence_key=sequence_key, replay_of=replay_of, start_node=start_node, dry_run=dry_run)
    stored = {**row, "input": message if input_text is None else JsonText(input_text)}
    run_id = rt.writer.write(lambda conn: INSERT.insert(conn, stored), single=True, shared=True)
    run = Started({**row, "id": run_id, "input": message})
    event = {"workspace": workspace, "flow_id": flow_id, "run_id": run_id, "version": version, "status": "queued",
             "business_key": business_key}
    rt.events.publish("run.queued", {**event, "replay_of": replay_of} if replay_of is not None else event)
    metrics.accepted(workspace, flow_id, trigger)
    enqueue(rt, run_id)
    return run


def start_many(rt: Runtime, workspace: str, flow_id: str, version: int, messages: list, *, trigger: str,
               trigger_node: str | None = None, keys: list[tuple[str | None, str | None]] | None = None,
               then: Callable[[Connection], None] | None = None) -> list[int]:
    """Store several new `queued` runs (each message with its (business, sequence) key) in one transaction
    together with the caller's own write `then(conn)` (event.poll's watermark advance), so all of them are
    committed or none; `then` raising undoes the runs. Then announce and enqueue them as `start` does."""
    keys = keys or [(None, None)] * len(messages)
    now = utcnow()
    rows = [{**new_row(workspace, flow_id, version, trigger=trigger, trigger_node=trigger_node, business_key=business,
                       sequence_key=sequence, created_at=now), "input": message}
            for message, (business, sequence) in zip(messages, keys)]

    def work(conn: Connection) -> list[int]:
        ids = [INSERT.insert(conn, row) for row in rows]
        if then is not None:
            then(conn)
        return ids

    run_ids = rt.writer.write(work)
    for run_id, row in zip(run_ids, rows):
        rt.events.publish("run.queued", {"workspace": workspace, "flow_id": flow_id, "run_id": run_id,
                                         "version": version, "status": "queued", "business_key": row["business_key"]})
    metrics.accepted(workspace, flow_id, trigger, len(run_ids))
    enqueue_all(rt, run_ids, "accepted")
    return run_ids


def enqueue(rt: Runtime, run_id: int, delay_s: float = 0.0, why: str = "accepted") -> bool:
    """Give a stored `queued` run a job; a queue error is logged, never raised: the run is safe in the
    database and the lost-job sweep enqueues it once the queue answers."""
    try:
        rt.queue.enqueue_run(run_id, delay_s)
        return True
    except Exception as err:
        _not_enqueued([run_id], why, err)
        return False


def enqueue_all(rt: Runtime, run_ids: list[int], why: str) -> bool:
    """`enqueue` for several runs at once."""
    if not run_ids:
        return True
    try:
        rt.queue.enqueue_runs(run_ids)
        return True
    except Exception as err:
        _not_enqueued(run_ids, why, err)
        return False


def _not_enqueued(run_ids: list[int], why: str, err: Exception) -> None:
    log.warning("run %s %s but not enqueued (%s: %s); it waits queued until the queue answers",
                ", ".join(map(str, run_ids[:20])), why, type(err).__name__, err)


def wake(rt: Runtime, run_id: int) -> bool:
    """A run parked by a node's Wait (`queued` with a later not_before and a checkpoint) made due now and
    given a job: the node it waits at runs again. False when the run is not parked (running, finished)."""
    with rt.engine.begin() as conn:
        woken = conn.execute(WAKE, {"run_id": run_id, "now": utcnow()}).rowcount
    if woken:
        enqueue(rt, run_id, 0.0, why="woken")
    return bool(woken)
