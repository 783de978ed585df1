"""The queue job: claim a run (a lease in the database), execute it, store its steps in one
transaction, schedule a retry or finish it. Jobs take ids, never live objects (STYLE.md rule 6)."""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time

from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from runtime import connections, lookups
from runtime.context import DatabaseLedger, StepContext
from runtime.executor import Outcome, execute, payload_text
from runtime.models import DeadLetter, Payload, Run, Step, utcnow
from runtime.plan import PlanError
from runtime.queue import current_queue_name
from runtime.states import RunStatus, advance

log = logging.getLogger(__name__)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
_runtimes: dict[str, object] = {}  # queue name -> the Runtime whose workers consume it, in this process
_in_flight: dict[int, tuple[object, int]] = {}  # run id -> (Runtime, claim attempt) executing in this process


def bind(runtime) -> None:
    _runtimes[runtime.queue.name] = runtime


def unbind(runtime) -> None:
    _runtimes.pop(runtime.queue.name, None)


def execute_run(run_id: int) -> str:
    """RQ job entry point: executes with the Runtime that owns the queue the job came from."""
    rt = _runtimes.get(current_queue_name() or "")
    if rt is None:
        raise RuntimeError("no runtime bound for this queue in this process (runtime.jobs.bind)")
    return run_claimed(rt, run_id)


def run_claimed(rt, run_id: int) -> str:
    row = _claim(rt, run_id)
    if isinstance(row, str):
        return row
    _in_flight[row.id] = (rt, row.attempt)
    try:
        return _execute_claimed(rt, row)
    except Exception as err:
        # a run that cannot be planned or stored must end failed, not stay `running` and come back
        # after every lease expiry to fail the same way for ever
        log.exception("run %s could not be executed", row.id)
        error = {"code": "not_runnable" if isinstance(err, PlanError) else "internal_error", "class": "technical",
                 "message": f"{type(err).__name__}: {err}"[:2000], "retryable": False}
        with rt.engine.begin() as conn:
            done = conn.execute(update(Run).where(Run.id == row.id, Run.status == RunStatus.RUNNING.value,
                                                  Run.attempt == row.attempt).values(
                status=advance(RunStatus.RUNNING, RunStatus.FAILED).value, lease_until=None, checkpoint=None,
                finished_at=utcnow(), error=error)).rowcount
        if done:
            rt.events.publish("run.finished", {**_event(row, "failed"), "error": error})
        return "failed" if done else "lost-lease"
    finally:
        _in_flight.pop(row.id, None)


def _execute_claimed(rt, row) -> str:
    run_id = row.id
    plan = rt.plan_for(row.workspace, row.flow_id, row.version)
    lease_deadline = [time.monotonic() + rt.settings.lease_s / 2]

    def heartbeat() -> None:
        if time.monotonic() > lease_deadline[0]:
            with rt.engine.begin() as conn:
                conn.execute(update(Run).where(Run.id == run_id).values(
                    lease_until=utcnow() + dt.timedelta(seconds=rt.settings.lease_s)))
            lease_deadline[0] = time.monotonic() + rt.settings.lease_s / 2

    def on_respond(status, body, headers) -> None:
        with rt.engine.begin() as conn:
            conn.execute(update(Run).where(Run.id == run_id).values(
                reply={"status": int(status), "body": body, "headers": dict(headers or {})}))

    lineage = _lineage(rt, row.replay_of)
    ctx = StepContext(workspace=row.workspace, flow_id=row.flow_id, flow_version=row.version, run_id=row.id,
                      params=plan.params, ledger=DatabaseLedger(rt.sessions, row.workspace, frozenset(lineage)),
                      business_key=row.business_key, root_run_id=lineage[-1] if lineage else row.id,
                      on_respond=on_respond,
                      connections=lambda name: connections.resolve(rt, row.workspace, name),
                      lookups=lambda table, key: lookups.get(rt, row.workspace, table, key))
    run = {"id": row.id, "input": row.input, "checkpoint": row.checkpoint, "trigger_node": row.trigger_node,
           "start_node": row.start_node if not row.checkpoint else None}
    rt.events.publish("run.started", _event(row, "running"))
    outcome = execute(plan, run, ctx, rt.events, heartbeat, stop=rt.queue.stopping.is_set,
                      payload_max=rt.settings.step_payload_max)
    status = _store(rt, row, outcome)
    if status == "lost-lease":
        return status
    if outcome.status == "retry":
        rt.queue.enqueue_run(row.id, outcome.retry_in_s)
    else:
        rt.events.publish("run.finished", {**_event(row, status), "error": outcome.error})
    return status


def _lineage(rt, replay_of: int | None, limit: int = 50) -> list[int]:
    """The runs a replay descends from, nearest first, the first original last: a replay of a replay
    keeps the original's idempotency keys and ledger claims."""
    chain: list[int] = []
    with rt.engine.connect() as conn:
        while replay_of is not None and replay_of not in chain and len(chain) < limit:
            chain.append(replay_of)
            replay_of = conn.execute(select(Run.replay_of).where(Run.id == replay_of)).scalar()
    return chain


def _claim_statement():
    """Built once, so SQLAlchemy's statement cache serves every claim (an alias per call defeated it)."""
    earlier = aliased(Run)
    return (update(Run).where(
        Run.id == bindparam("run_id"), Run.status == RunStatus.QUEUED.value,
        or_(Run.not_before.is_(None), Run.not_before <= bindparam("now")),
        ~exists().where(earlier.workspace == Run.workspace, earlier.flow_id == Run.flow_id,
                        earlier.sequence_key == Run.sequence_key, earlier.id < Run.id,
                        earlier.status.in_([RunStatus.QUEUED.value, RunStatus.RUNNING.value])))
        .values(status=RunStatus.RUNNING.value, worker=bindparam("worker"), attempt=Run.attempt + 1,
                lease_until=bindparam("lease_until"), started_at=func.coalesce(Run.started_at, bindparam("now")))
        .returning(Run.id, Run.workspace, Run.flow_id, Run.version, Run.business_key, Run.replay_of, Run.input,
                   Run.checkpoint, Run.trigger_node, Run.start_node, Run.attempt))


CLAIM = _claim_statement()


def _claim(rt, run_id: int):
    """The run row, now ours; or a string saying why this job does nothing.

    One UPDATE claims it, and only when it is queued, due, and no earlier run with the same
    sequence key is still open; the reasons are read only when the claim did not happen."""
    now = utcnow()
    advance(RunStatus.QUEUED, RunStatus.RUNNING)
    with rt.engine.begin() as conn:
        row = conn.execute(CLAIM, {"run_id": run_id, "now": now, "worker": WORKER_ID,
                                   "lease_until": now + dt.timedelta(seconds=rt.settings.lease_s)}).first()
    if row is not None:
        return row
    with rt.engine.connect() as conn:
        status, not_before = conn.execute(select(Run.status, Run.not_before).where(Run.id == run_id)).first() or (
            None, None)
    if status is None:
        return "missing"
    if status != RunStatus.QUEUED.value:
        return f"skip:{status}"  # a duplicate job; another worker has or had it
    if not_before and not_before > now:
        rt.queue.enqueue_run(run_id, (not_before - now).total_seconds())
        return "early"
    rt.queue.enqueue_run(run_id, 0.2)  # an earlier message with the same key goes first
    return "waiting"


def _store(rt, row: Run, outcome: Outcome) -> str:
    limit = rt.settings.step_payload_limit
    new = {"retry": RunStatus.QUEUED, "failed": RunStatus.FAILED, "succeeded": RunStatus.SUCCEEDED}[outcome.status]
    now = utcnow()
    status = advance(RunStatus.RUNNING, new)
    values = {"status": status.value, "lease_until": None}  # `worker` stays: who executed it
    if status == RunStatus.QUEUED:
        values.update(checkpoint=outcome.checkpoint, not_before=now + dt.timedelta(seconds=outcome.retry_in_s))
    else:
        values.update(checkpoint=None, finished_at=now, output=_fit(outcome.output, limit * 8)[0],
                      error=outcome.error, not_before=None)
    with rt.engine.begin() as s:
        # fenced by the claim's attempt number: if our lease expired and another worker took the run
        # over, nothing of this execution is stored (the other one's result counts)
        fenced = s.execute(update(Run).where(Run.id == row.id, Run.status == RunStatus.RUNNING.value,
                                             Run.attempt == row.attempt).values(**values)).rowcount
        if not fenced:
            s.rollback()
            return "lost-lease"
        steps, payloads = [], []
        for st in outcome.steps:
            st = dict(st)
            texts = st.pop("texts", None) or {}
            for kind in ("input", "output"):
                whole = st.get(kind)
                st[kind], cut = _fit(whole, limit, texts.get(kind))
                if cut:
                    st["truncated"] = True
                    # over the step payload maximum, the step failed with payload_too_large: keep no copy
                    if len(texts.get(kind) or "") <= rt.settings.step_payload_max:
                        payloads.append({"run_id": row.id, "step_seq": st["seq"], "kind": kind, "data": whole})
            steps.append({**STEP_DEFAULTS, "run_id": row.id, **st})
        if steps:
            s.execute(Step.__table__.insert(), steps)
        if payloads:
            s.execute(Payload.__table__.insert(), payloads)
        if outcome.dead_letters:
            s.execute(DeadLetter.__table__.insert(), [
                {"workspace": row.workspace, "run_id": row.id, "flow_id": row.flow_id, "version": row.version,
                 "status": "open", "created_at": now, **dl, "code": _text(dl["code"], 64),
                 "message": _text(dl["message"], 4000)} for dl in outcome.dead_letters])
    return status.value


def _text(value, limit: int) -> str:
    """A text column's value: PostgreSQL text cannot hold NUL, and codes have a length."""
    return str(value).replace("\x00", "")[:limit]


STEP_DEFAULTS = {"port": None, "output": None, "error": None, "truncated": False, "finished_at": None,
                 "duration_ms": None}  # one insert of many rows needs the same keys in each


def _fit(value, limit: int, text: str | None = None):
    """The value if its JSON fits in `limit` bytes, else a preview and True (whole copy kept aside).
    `text` is the JSON the executor already made of it, if any."""
    if value is None or isinstance(value, (int, float, bool)):
        return value, False
    text = payload_text(value) if text is None else text
    if len(text) <= limit:
        return value, False
    return {"_truncated": True, "bytes": len(text), "preview": text[:2000]}, True


def _event(row: Run, status: str) -> dict:
    return {"workspace": row.workspace, "flow_id": row.flow_id, "run_id": row.id, "version": row.version,
            "status": status, "business_key": row.business_key}


def release_expired_leases(rt) -> int:
    """Runs whose worker died mid-run go back to the queue (another worker resumes or retries them),
    unless their lease has now expired `poison_takeovers` times: such a run kills or freezes every
    worker that takes it, so it ends `failed` with `poison` (and a dead letter) and is never claimed again."""
    return _take_back(rt, Run.lease_until < utcnow())


def hand_back_in_flight() -> int:
    """The runs this process is executing go back to the queue now, counted as a takeover (a worker
    whose step outlived its shutdown grace calls this just before it exits)."""
    return sum(_take_back(rt, Run.id == run_id, Run.attempt == attempt)
               for run_id, (rt, attempt) in list(_in_flight.items()))


def _take_back(rt, *where) -> int:
    now = utcnow()
    limit = rt.settings.poison_takeovers
    error = {"code": "poison", "class": "technical", "retryable": False,
             "message": f"its worker stopped {limit} times before it finished (killed, frozen or out of time): "
                        "ended so that it stops no more workers; never claimed again"}
    running = (Run.status == RunStatus.RUNNING.value, *where)
    with rt.engine.begin() as conn:
        poisoned = conn.execute(update(Run).where(*running, Run.takeovers >= limit - 1).values(
            status=advance(RunStatus.RUNNING, RunStatus.FAILED).value, takeovers=Run.takeovers + 1,
            lease_until=None, checkpoint=None, finished_at=now, error=error).returning(
            Run.id, Run.workspace, Run.flow_id, Run.version, Run.business_key, Run.trigger_node, Run.input)).all()
        if poisoned:
            conn.execute(DeadLetter.__table__.insert(), [
                {"workspace": r.workspace, "run_id": r.id, "flow_id": r.flow_id, "version": r.version,
                 "node_id": r.trigger_node or "", "error_class": "technical", "code": "poison",
                 "message": error["message"], "payload": r.input, "status": "open", "created_at": now}
                for r in poisoned])
        ids = list(conn.execute(update(Run).where(*running).values(
            status=advance(RunStatus.RUNNING, RunStatus.QUEUED).value, worker=None, lease_until=None,
            takeovers=Run.takeovers + 1).returning(Run.id)).scalars())
    for r in poisoned:
        log.error("run %s of %s ended as poison after %s takeovers", r.id, r.flow_id, limit)
        rt.events.publish("run.finished", {**_event(r, "failed"), "error": error})
    try:
        rt.queue.enqueue_runs(ids)
    except Exception as err:  # Redis down: they wait `queued`; requeue_lost enqueues them once it answers
        log.warning("%d run(s) taken back but not enqueued (%s: %s)", len(ids), type(err).__name__, err)
    return len(ids) + len(poisoned)


def requeue_waiting(rt, older_than_s: float = 0.0) -> int:
    """Enqueue again every run waiting `queued` and due (an embedded restart: the in-memory queue is gone)."""
    ids = _due_queued(rt, older_than_s)
    rt.queue.enqueue_runs(ids)
    return len(ids)


def requeue_lost(rt) -> int:
    """Enqueue again the due `queued` runs that have no job in the queue (Redis was down when they were
    accepted, or restarted without its data, a worker died between taking the job and claiming the run,
    or the delayed job is overdue because no scheduler moves it). A duplicate job does nothing (the claim)."""
    ids = _due_queued(rt, rt.settings.lost_job_after_s)
    if not ids:
        return 0
    held = rt.queue.held_run_ids(rt.settings.lost_job_after_s)
    lost = [i for i in ids if i not in held]
    if lost:
        log.warning("%d queued run(s) had no job in the queue; enqueued again: %s", len(lost), lost[:20])
        rt.queue.enqueue_runs(lost)
    return len(lost)


def _due_queued(rt, older_than_s: float) -> list[int]:
    cutoff = utcnow() - dt.timedelta(seconds=older_than_s)
    with rt.sessions() as s:
        return list(s.scalars(select(Run.id).where(
            Run.status == RunStatus.QUEUED.value, Run.created_at <= cutoff,
            or_(Run.not_before.is_(None), Run.not_before <= cutoff)).order_by(Run.id)))
