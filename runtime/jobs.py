"""The queue job: claim a run, execute it, write its end once (runtime/store), then hand over to the
next run of its sequence key or enqueue its retry. Jobs take ids, never live objects (STYLE.md rule 6).

A sync webhook's reply (control.respond) travels as the `run.replied` live event the moment the step
answers, and is stored with the end write; the run row is not written mid-run except for its lease.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from sqlalchemy.engine import Row

from runtime import connections, lookups
from runtime.context import DatabaseLedger, StepContext
from runtime.executor import execute
from runtime.models import Run, utcnow
from runtime.plan import PlanError
from runtime.queue import current_queue_name
from runtime.store import claims, ends, reads, runs

if TYPE_CHECKING:
    from runtime.wiring import Runtime

log = logging.getLogger(__name__)
_runtimes: dict[str, Runtime] = {}  # queue name -> the Runtime whose workers consume it, in this process
_in_flight: dict[int, tuple[Runtime, int]] = {}  # run id -> (Runtime, claim attempt) executing in this process
# A batch job (several run ids, runtime/queue.py) gives the runs it has not started back to the queue as a new
# job once it has run this long, so that one slow run never holds the others behind it
BATCH_SLICE_S = 0.15


def bind(runtime: Runtime) -> None:
    _runtimes[runtime.queue.name] = runtime


def unbind(runtime: Runtime) -> None:
    _runtimes.pop(runtime.queue.name, None)


def execute_run(run_id: int) -> str:
    """RQ job entry point: executes with the Runtime that owns the queue the job came from."""
    return run_claimed(_bound(), run_id)


def execute_runs(run_ids: list[int]) -> str:
    """RQ job entry point for a batch: its runs one after the other. After BATCH_SLICE_S (checked between
    runs, and by a timer while a slow run executes) or once the worker is stopping, the runs not started
    go back to the queue as one new job and this one returns; a run that raises does not stop the rest."""
    rt = _bound()
    batch = _Batch(rt, list(run_ids))
    timer = threading.Timer(BATCH_SLICE_S, batch.give_back, args=("time slice",))
    timer.daemon = True
    timer.start()
    done: list[str] = []
    try:
        while (run_id := batch.next()) is not None:
            try:
                done.append(run_claimed(rt, run_id))
            except Exception:  # as RQ would for a job of its own: logged, and the batch goes on
                log.exception("job for run %s failed", run_id)
                done.append("error")
    finally:
        timer.cancel()
    return ",".join(done)


class _Batch:
    """The runs of a batch job not started yet; `give_back` hands them to the queue once (the timer's or
    the job's thread, whichever comes first) and ends the batch after the run in flight."""

    def __init__(self, rt: Runtime, run_ids: list[int]):
        self.rt, self._ids, self._next, self._given = rt, run_ids, 0, False
        self._lock = threading.Lock()
        self.started = time.monotonic()

    def next(self) -> int | None:
        if self.rt.queue.stopping.is_set():
            self.give_back("the worker is stopping")
        elif self._next and time.monotonic() - self.started >= BATCH_SLICE_S:
            self.give_back("time slice")
        with self._lock:
            if self._given or self._next >= len(self._ids):
                return None
            self._next += 1
            return self._ids[self._next - 1]

    def give_back(self, why: str) -> None:
        with self._lock:
            if self._given:
                return
            self._given = True
            rest = self._ids[self._next:]
        if rest:
            runs.enqueue_all(self.rt, rest, why=f"not started in its batch ({why})")


def _bound() -> Runtime:
    rt = _runtimes.get(current_queue_name() or "")
    if rt is None:
        raise RuntimeError("no runtime bound for this queue in this process (runtime.jobs.bind)")
    return rt


def run_claimed(rt: Runtime, run_id: int) -> str:
    """Claim and execute one run; the result says what happened (`succeeded`, `failed`, `queued` for a
    retry wait, `waiting` behind an earlier run of its key, `skip:<status>`, `lost-lease`, ...)."""
    row = _claim(rt, run_id)
    if isinstance(row, str):
        return row
    _in_flight[row.id] = (rt, row.attempt)
    reply: list[dict] = []
    try:
        return _execute_claimed(rt, row, reply)
    except Exception as err:
        # a run that cannot be planned or stored must end failed, not stay `running` and come back
        # after every lease expiry to fail the same way for ever
        log.exception("run %s could not be executed", row.id)
        error = {"code": "not_runnable" if isinstance(err, PlanError) else "internal_error", "class": "technical",
                 "message": f"{type(err).__name__}: {err}"[:2000], "retryable": False}
        if not ends.fail(rt, row, error, reply[0] if reply else None):
            return "lost-lease"
        rt.events.publish("run.finished", {**_event(row, "failed"), "error": error})
        ends.hand_over(rt, row.workspace, row.flow_id, row.sequence_key)
        return "failed"
    finally:
        _in_flight.pop(row.id, None)


def _claim(rt: Runtime, run_id: int) -> Row | str:
    """The claimed row, or why not; a run not due yet gets a job at its time (a retry job that came early)."""
    row = claims.claim(rt, run_id)
    if isinstance(row, str) and row.startswith("early:"):
        runs.enqueue(rt, run_id, float(row.split(":", 1)[1]), why="early")
        return "early"
    return row


def _execute_claimed(rt: Runtime, row: Row, reply: list[dict]) -> str:
    plan = rt.plan_for(row.workspace, row.flow_id, row.version)
    lease_deadline = [time.monotonic() + rt.settings.lease_s / 2]

    def heartbeat() -> None:
        if time.monotonic() > lease_deadline[0]:
            claims.extend_lease(rt, row.id, row.attempt)
            lease_deadline[0] = time.monotonic() + rt.settings.lease_s / 2

    def on_respond(status, body, headers) -> None:
        answer = {"status": int(status), "body": body, "headers": dict(headers or {})}
        if not reply and row.reply is None:  # an HTTP request gets one answer: the first
            reply.append(answer)
            rt.events.publish("run.replied", {**_event(row, "running"), "reply": answer})

    lineage = reads.lineage(rt, row.replay_of)
    ctx = StepContext(workspace=row.workspace, flow_id=row.flow_id, flow_version=row.version, run_id=row.id,
                      params=plan.params, ledger=DatabaseLedger(rt.sessions, row.workspace, frozenset(lineage)),
                      business_key=row.business_key, root_run_id=lineage[-1] if lineage else row.id,
                      on_respond=on_respond,
                      connections=lambda name: connections.resolve(rt, row.workspace, name),
                      lookups=lambda table, key: lookups.get(rt, row.workspace, table, key))
    run = {"id": row.id, "input": row.input, "input_text": row.input_text, "checkpoint": row.checkpoint,
           "trigger_node": row.trigger_node, "start_node": row.start_node if not row.checkpoint else None}
    rt.events.publish("run.started", _event(row, "running"))
    outcome = execute(plan, run, ctx, rt.events, heartbeat, stop=rt.queue.stopping.is_set,
                      payload_max=rt.settings.step_payload_max)
    ended = ends.finish(rt, row, outcome, reply[0] if reply else None)
    if ended is None:
        return "lost-lease"
    if outcome.status == "retry":
        runs.enqueue(rt, row.id, outcome.retry_in_s, why="waiting for a retry")
        return ended.status
    finished = {**_event(row, ended.status), "error": outcome.error}
    if ended.output_kept:
        finished["output"] = ended.output
    rt.events.publish("run.finished", finished)
    ends.hand_over(rt, row.workspace, row.flow_id, row.sequence_key)
    return ended.status


def _event(row, status: str) -> dict:
    return {"workspace": row.workspace, "flow_id": row.flow_id, "run_id": row.id, "version": row.version,
            "status": status, "business_key": row.business_key}


def release_expired_leases(rt: Runtime) -> int:
    """Runs whose worker died mid-run go back to the queue (another worker resumes or retries them),
    unless their lease has now expired `poison_takeovers` times: such a run kills or freezes every
    worker that takes it, so it ends `failed` with `poison` (and a dead letter) and is never claimed again."""
    return _take_back(rt, Run.lease_until < utcnow())


def hand_back_in_flight() -> int:
    """The runs this process is executing go back to the queue now, counted as a takeover (a worker
    whose step outlived its shutdown grace calls this just before it exits)."""
    return sum(_take_back(rt, Run.id == run_id, Run.attempt == attempt)
               for run_id, (rt, attempt) in list(_in_flight.items()))


def _take_back(rt: Runtime, *where) -> int:
    ids, poisoned = claims.take_back(rt, *where)
    for r in poisoned:
        log.error("run %s of %s ended as poison after %s takeovers", r.id, r.flow_id, rt.settings.poison_takeovers)
        rt.events.publish("run.finished", {**_event(r, "failed"),
                                           "error": claims.poison_error(rt.settings.poison_takeovers)})
        ends.hand_over(rt, r.workspace, r.flow_id, r.sequence_key)
    # Redis down: they wait `queued`; requeue_lost enqueues them once it answers
    runs.enqueue_all(rt, ids, why="taken back")
    return len(ids) + len(poisoned)


def requeue_waiting(rt: Runtime, older_than_s: float = 0.0) -> int:
    """Enqueue again every run waiting `queued`, due and free to run (an embedded restart: the in-memory
    queue is gone)."""
    ids = reads.due_queued(rt, older_than_s)
    rt.queue.enqueue_runs(ids)
    return len(ids)


def requeue_lost(rt: Runtime) -> int:
    """Enqueue again the due `queued` runs that have no job in the queue (Redis was down when they were
    accepted, or restarted without its data, a worker died between taking the job and claiming the run,
    the delayed job is overdue because no scheduler moves it, or a run's predecessor of the same key
    ended without handing over). A duplicate job does nothing (the claim)."""
    ids = reads.due_queued(rt, rt.settings.lost_job_after_s)
    if not ids:
        return 0
    held = rt.queue.held_run_ids(rt.settings.lost_job_after_s)
    lost = [i for i in ids if i not in held]
    if lost:
        log.warning("%d queued run(s) had no job in the queue; enqueued again: %s", len(lost), lost[:20])
        rt.queue.enqueue_runs(lost)
    return len(lost)

