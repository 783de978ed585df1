"""Leases on runs: a worker claims a queued run (a lease in the database), keeps the lease while it
executes, and a run whose lease expired is taken back to the queue (the worker died) or, after
`poison_takeovers` expiries, ends `failed` with `poison` and a dead letter.

Same-key order: a run is claimed only when no earlier run with its sequence key is open. A run that
finds one does nothing more (its job ends); the earlier run hands over to it when it ends
(runtime/store/ends.py), so nothing polls. A run waiting for a retry, or taken back after its worker
died, is still open: the runs behind it keep waiting, and it hands over when it ends. Recovery
(runtime/jobs.py requeue_lost) leaves waiting runs alone for the same reason, and enqueues them once
nothing open is ahead of them (the process ended between its end write and its hand-over).
"""
from __future__ import annotations

import datetime as dt
import os
import socket
from typing import TYPE_CHECKING

from sqlalchemy import Text, and_, bindparam, case, cast, exists, func, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import aliased

from runtime.models import DeadLetter, Run, utcnow
from runtime.states import OPEN, RunStatus
from runtime.store.statements import Prepared
from runtime.store.transitions import move, status_in

if TYPE_CHECKING:
    from runtime.wiring import Runtime

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
OPEN_STATES = sorted(s.value for s in OPEN)
# the input also as its stored JSON text: the executor keeps that text for the first step instead of
# serialising the parsed message again
CLAIMED = (Run.id, Run.workspace, Run.flow_id, Run.version, Run.business_key, Run.sequence_key, Run.replay_of,
           Run.input, cast(Run.input, Text).label("input_text"), Run.checkpoint, Run.trigger_node, Run.start_node,
           Run.attempt, Run.reply, Run.dry_run)


def free(run=Run):
    """SQL: `run` may run now as far as its sequence key goes: it has none, or no earlier run of its key is
    open. Written as an OR so that a run without a key never evaluates the subquery: PostgreSQL turned a
    bare NOT EXISTS into an anti-join that, for a NULL key, scanned every earlier run of the flow (7 ms a
    claim with 6,500 runs, growing with the table; most of PostgreSQL's CPU per run)."""
    return or_(run.sequence_key.is_(None), ~blocked(run))


def blocked(run=Run):
    """SQL: an earlier run with the same sequence key is still open (queued or running), so `run` waits."""
    earlier = aliased(Run)
    return exists().where(earlier.workspace == run.workspace, earlier.flow_id == run.flow_id,
                          earlier.sequence_key == run.sequence_key, earlier.id < run.id,
                          status_in(earlier.status, OPEN))


# PostgreSQL: a claim commits without waiting for its WAL flush (synchronous_commit off for its own transaction,
# set by the statement itself: it runs in autocommit). A crash of the database may lose it, harmlessly: the run
# is `queued` again for recovery, and any durable commit that follows (the run's end) flushes it first. Under
# load that flush was most of a claim's time (1.5 vs 0.5 ms idle, 12 ms on a loaded machine), and a lane thread
# executes nothing until its claim returns.
NO_FLUSH_WAIT = select(func.set_config("synchronous_commit", "off", True)).scalar_subquery() == "off"


def _claim_statement(which, *more):
    """Built once per shape, so SQLAlchemy's statement cache serves every claim (an alias per call defeated it)."""
    return (move(RunStatus.RUNNING, which, or_(Run.not_before.is_(None), Run.not_before <= bindparam("now")), free(),
                 *more)
            .values(worker=bindparam("worker"), attempt=Run.attempt + 1, lease_until=bindparam("lease_until"),
                    started_at=func.coalesce(Run.started_at, bindparam("now")))
            .returning(*CLAIMED))


CLAIM = Prepared(_claim_statement(Run.id == bindparam("run_id")),
                 postgres=_claim_statement(Run.id == bindparam("run_id"), NO_FLUSH_WAIT))
CLAIM_MANY: dict[int, Prepared] = {}  # a power of two -> `id IN (:id0, ..)` (a fixed list: no expanding parameter)
MAX_CLAIM = 64
WHY = select(Run.status, Run.not_before).where(Run.id == bindparam("run_id"))
LEASE = (Run.__table__.update().where(Run.id == bindparam("run_id"), Run.attempt == bindparam("claimed"),
                                      Run.status == RunStatus.RUNNING.value)
         .values(lease_until=bindparam("until")))


def claim(rt: Runtime, run_id: int) -> Row | str:
    """The run row, now ours; or a string saying why this job does nothing: `missing`, `skip:<status>`
    (a duplicate job: another worker has or had it), `early:<seconds>` (not due yet), `waiting` (an
    earlier run with its key is open and will hand over to it). The reasons are read only when the one
    UPDATE that claims did not."""
    now = utcnow()
    params = {"run_id": run_id, "now": now, "worker": WORKER_ID,
              "lease_until": now + dt.timedelta(seconds=rt.settings.lease_s)}
    row = rt.writer.write(lambda conn: CLAIM.fetched(conn, params), single=True).first()  # made after the commit
    if row is not None:
        return row
    with rt.reader.connect() as conn:
        status, not_before = conn.execute(WHY, {"run_id": run_id}).first() or (None, None)
    return _why(status, not_before, now)


def claim_many(rt: Runtime, run_ids: list[int]) -> tuple[list, dict[int, str]]:
    """`claim` for several runs in one guarded UPDATE: (the claimed rows in the order of `run_ids`,
    {run id: why not} for the others, with claim's reasons). Same-key order holds within the batch too: a
    run whose earlier run of its key is among them finds that one open (queued or just claimed) and waits.

    A run taken back before (its worker died while it was claimed) is not claimed with others but left
    `alone` (`waiting` may also be one of those, not due for a claim of its own): the batch claimed with a
    poison run would otherwise die with it again and again, each run counting takeovers towards its own
    poison limit; claimed alone, a run's takeovers are its own."""
    ids = list(dict.fromkeys(run_ids))[:MAX_CLAIM]
    if not ids:
        return [], {}
    size = 1 << (len(ids) - 1).bit_length()  # a statement per power of two, the last id repeated to fill it:
    statement = CLAIM_MANY.get(size)  # one per count was 64 statements to build and compile in each process
    if statement is None:  # a run taken back before (its worker died) is claimed alone: see `alone`
        which = and_(Run.id.in_([bindparam(f"id{i}") for i in range(size)]), Run.takeovers == 0)
        statement = CLAIM_MANY.setdefault(size, Prepared(_claim_statement(which),
                                                         postgres=_claim_statement(which, NO_FLUSH_WAIT)))
    now = utcnow()
    params = {"now": now, "worker": WORKER_ID, "lease_until": now + dt.timedelta(seconds=rt.settings.lease_s),
              **{f"id{i}": ids[min(i, len(ids) - 1)] for i in range(size)}}
    rows = rt.writer.write(lambda conn: statement.fetched(conn, params), single=True).all()  # made after the commit
    position = {run_id: i for i, run_id in enumerate(ids)}
    rows.sort(key=lambda r: position[r.id])
    why = {run_id: "skip:running" for run_id in run_ids[len(ids):]}  # more than a claim takes: never in a batch
    rest = [i for i in ids if i not in {r.id for r in rows}]
    if rest:
        with rt.reader.connect() as conn:
            found = {r.id: r for r in conn.execute(
                select(Run.id, Run.status, Run.not_before, Run.takeovers).where(Run.id.in_(rest)))}
        for run_id in rest:
            r = found.get(run_id)
            why[run_id] = _why(r.status, r.not_before, now) if r is not None else "missing"
            if why[run_id] == "waiting" and r.takeovers:
                why[run_id] = "alone"
    return rows, why


def _why(status: str | None, not_before, now) -> str:
    if status is None:
        return "missing"
    if status != RunStatus.QUEUED.value:
        return f"skip:{status}"
    if not_before and not_before > now:
        return f"early:{(not_before - now).total_seconds():.3f}"
    return "waiting"


GIVE_BACK = Prepared(move(RunStatus.QUEUED, Run.id == bindparam("run_id"), Run.attempt == bindparam("claimed"))
                     .values(worker=None, lease_until=None, attempt=Run.attempt - 1,
                             started_at=case((Run.attempt == 1, None), else_=Run.started_at)))


def give_back(rt: Runtime, rows: list) -> list[int]:
    """Claimed runs this worker did not start go back to `queued` as if never claimed (their attempt and,
    for a first claim, started_at undone; not a takeover): a batch that ran out of time or a stopping
    worker. Returns the ids given back (a run whose lease another worker took meanwhile is not)."""
    if not rows:
        return []

    def work(conn):
        return [r.id for r in rows if GIVE_BACK.rowcount(conn, {"run_id": r.id, "claimed": r.attempt})]

    return rt.writer.write(work)


def extend_lease(rt: Runtime, run_id: int, attempt: int) -> bool:
    """Keep the claim of a run this worker still executes (a heartbeat between steps)."""
    params = {"run_id": run_id, "claimed": attempt, "until": utcnow() + dt.timedelta(seconds=rt.settings.lease_s)}
    return bool(rt.writer.write(lambda conn: conn.execute(LEASE, params).rowcount, single=True))


def take_back(rt: Runtime, *where) -> tuple[list[int], list[Row]]:
    """Running runs matching `where` go back to `queued`, counted as a takeover; those at the poison
    limit end `failed` with `poison` and a dead letter instead. Returns (requeued ids, poisoned rows)."""
    now = utcnow()
    limit = rt.settings.poison_takeovers
    error = poison_error(limit)

    def work(conn):
        poisoned = conn.execute(move(RunStatus.FAILED, *where, Run.takeovers >= limit - 1).values(
            takeovers=Run.takeovers + 1, lease_until=None, checkpoint=None, finished_at=now, error=error).returning(
            Run.id, Run.workspace, Run.flow_id, Run.version, Run.business_key, Run.sequence_key, Run.trigger_node,
            Run.input)).all()
        if poisoned:
            conn.execute(DeadLetter.__table__.insert(), [
                {"workspace": r.workspace, "run_id": r.id, "flow_id": r.flow_id, "version": r.version,
                 "node_id": r.trigger_node or "", "error_class": "technical", "code": "poison",
                 "message": error["message"], "payload": r.input, "status": "open", "created_at": now}
                for r in poisoned])
        ids = list(conn.execute(move(RunStatus.QUEUED, *where).values(
            worker=None, lease_until=None, takeovers=Run.takeovers + 1).returning(Run.id)).scalars())
        return ids, poisoned

    return rt.writer.write(work)


def poison_error(limit: int) -> dict:
    return {"code": "poison", "class": "technical", "retryable": False,
            "message": f"its worker stopped {limit} times before it finished (killed, frozen or out of time): "
                       "ended so that it stops no more workers; never claimed again"}
