"""The queue job: claim a run, execute it, write its end once (runtime/store), then hand over to the
next run of its sequence key or enqueue its retry. Jobs take ids, never live objects: a job may run in
another process, after the objects it was given changed.

A sync webhook's reply (control.respond) travels as the `run.replied` live event the moment the step
answers, and is stored with the end write; the run row is not written mid-run except for its lease.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from sqlalchemy.engine import Row

from runtime import connections, lookups, throttles, trading_partners
from runtime import business_events  # control.emit's events and their delivery runs
from runtime import aggregates  # transform.aggregate's groups
from runtime import waits  # control.wait's waits and arrivals
from runtime import metrics  # runs and steps counted for GET /metrics
from runtime.context import DatabaseLedger, StepContext
from runtime.dry_runs import DryLedger  # a dry run's control.dedupe reads the ledger, never claims
from runtime.executor import Outcome, execute
from runtime.models import Run, utcnow
from runtime.plan import PlanError
from runtime.queue import current_queue_name
from runtime.store import claims, ends, reads, runs

if TYPE_CHECKING:
    from runtime.wiring import Runtime

log = logging.getLogger(__name__)
_runtimes: dict[str, Runtime] = {}  # queue name -> the Runtime whose workers consume it, in this process
_in_flight: dict[int, tuple[Runtime, int]] = {}  # run id -> (Runtime, claim attempt) executing in this process
# A batch (several run ids, runtime/queue.py) gives the runs it has not started back to the queue once it has
# run this long, so that one slow run never holds the others behind it
BATCH_SLICE_S = 0.15


def bind(runtime: Runtime) -> None:
    _runtimes[runtime.queue.name] = runtime


def unbind(runtime: Runtime) -> None:
    _runtimes.pop(runtime.queue.name, None)


def execute_run(run_id: int) -> str:
    """RQ job entry point: executes with the Runtime that owns the queue the job came from."""
    return run_claimed(_bound(), run_id)


def execute_runs(run_ids: list[int]) -> str:
    """RQ job entry point for a batch (production, runtime/queue.py): its runs claimed, executed and ended
    together (run_batch: after BATCH_SLICE_S or once the worker is stopping, the runs not started go back
    to `queued` and to the queue as a new job); one alone: run_claimed."""
    return execute_batch(run_ids)


def execute_batch(run_ids: list[int]) -> str:
    """The embedded queue's job: the runs a worker thread found waiting, claimed and ended together
    (run_batch; one alone: run_claimed). Results joined by commas."""
    rt = _bound()
    return run_claimed(rt, run_ids[0]) if len(run_ids) == 1 else ",".join(run_batch(rt, run_ids))


def run_batch(rt: Runtime, run_ids: list[int]) -> list[str]:
    """Claim several runs in one guarded UPDATE, execute them one after the other and write their ends in one
    transaction (runtime/store: claims.claim_many, ends.finish_many): a run's share of the claim, the end
    write and their commits is divided among the batch. A run's end is stored once its effects are done,
    never before; a run claimed and not ended yet when the process dies is taken back when its lease
    expires, as a single run is, and is then claimed alone (a poison run takes no batch down with it twice).
    After BATCH_SLICE_S (a timer, also while one slow run executes) or once the
    worker stops, the ends of the runs executed so far are written and the runs not started go back to
    `queued` and to the queue, so that one slow run holds neither the others nor their ends.
    Results in the order of `run_ids`, as run_claimed's."""
    rows, why = claims.claim_many(rt, run_ids)
    results = dict(why)
    for run_id, reason in why.items():
        if reason.startswith("early:"):  # a retry job that came early: a job at its time
            runs.enqueue(rt, run_id, float(reason.split(":", 1)[1]), why="early")
            results[run_id] = "early"
    batch = _Claimed(rt, rows, results)
    _slicer.arm(batch)
    try:
        while (row := batch.next()) is not None:
            reply: list[dict] = []
            try:
                outcome = _execute(rt, row, reply)
            except Exception as err:
                batch.done(row, _failed(rt, row, err, reply))
                continue
            batch.ended(row, outcome, reply[0] if reply else None)
    finally:
        _slicer.disarm(batch)
        batch.cut("the batch ended")  # nothing is left claimed and not started, whatever raised
    for run_id in [i for i, reason in why.items() if reason == "alone"]:  # taken back before: each on its own
        results[run_id] = run_claimed(rt, run_id)
    return [results.get(run_id, "skip:running") for run_id in run_ids]


class _Slicer:
    """One thread per process that cuts the batches whose time slice has passed (a timer thread per batch
    cost 40 µs). It sleeps while no batch is armed."""

    def __init__(self):
        self._cond = threading.Condition()
        self._armed: dict[int, _Claimed] = {}
        self._thread: threading.Thread | None = None

    def arm(self, batch: _Claimed) -> None:
        with self._cond:
            self._armed[id(batch)] = batch
            if self._thread is None or not self._thread.is_alive():  # started in the process that uses it
                self._thread = threading.Thread(target=self._run, name="crossdock-batch-slicer", daemon=True)
                self._thread.start()
            elif len(self._armed) == 1:
                self._cond.notify()

    def disarm(self, batch: _Claimed) -> None:
        with self._cond:
            self._armed.pop(id(batch), None)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._armed:
                    self._cond.wait()
                now = time.monotonic()
                due = [b for b in self._armed.values() if now - b.started >= BATCH_SLICE_S]
                for b in due:
                    del self._armed[id(b)]
                if not due:
                    self._cond.wait(min(b.started for b in self._armed.values()) + BATCH_SLICE_S - now)
                    continue
            for b in due:
                try:
                    b.cut("time slice")
                except Exception:
                    log.exception("cutting a batch of runs failed")


_slicer = _Slicer()


class _Claimed:
    """A batch of claimed runs: the next to execute, and the executed ones whose ends are not written
    yet. `cut` (the timer's thread or the job's, once) gives the runs not started back and writes the
    ends kept so far; an end that comes after the cut is written at once."""

    def __init__(self, rt: Runtime, rows: list, results: dict[int, str]):
        self.rt, self._rows, self._results = rt, rows, results
        self._next, self._cut, self._ends = 0, False, []
        self._lock = threading.Lock()
        self.started = time.monotonic()
        for row in rows:
            _in_flight[row.id] = (rt, row.attempt)

    def next(self):
        if self.rt.queue.stopping.is_set():
            self.cut("the worker is stopping")
        elif self._next and time.monotonic() - self.started >= BATCH_SLICE_S:
            self.cut("time slice")
        with self._lock:
            if self._cut or self._next >= len(self._rows):
                return None
            self._next += 1
            return self._rows[self._next - 1]

    def ended(self, row, outcome: Outcome, reply: dict | None) -> None:
        with self._lock:
            self._ends.append((row, outcome, reply))
            cut = self._cut
        if cut:
            self._write()

    def done(self, row, result: str) -> None:
        self._results[row.id] = result
        _in_flight.pop(row.id, None)

    def cut(self, why: str) -> None:
        with self._lock:
            rest = [] if self._cut else self._rows[self._next:]
            self._cut = True
            self._next = len(self._rows)
        if rest:
            given = claims.give_back(self.rt, rest)
            for row in rest:
                self.done(row, "given-back" if row.id in given else "lost-lease")
            runs.enqueue_all(self.rt, given, why=f"not started in its batch ({why})")
        self._write()

    def _write(self) -> None:
        with self._lock:
            items, self._ends = self._ends, []
        if not items:
            return
        try:
            stored = ends.finish_many(self.rt, items)
        except Exception:  # one of them cannot be stored: each alone, so that only that one fails
            log.exception("the end write of a batch of %d runs failed; each is written alone", len(items))
            stored = None
        for i, (row, outcome, reply) in enumerate(items):
            try:
                if stored is None:
                    try:
                        ended = ends.finish(self.rt, row, outcome, reply)
                    except Exception as err:
                        self.done(row, _failed(self.rt, row, err, [reply] if reply else []))
                        continue
                else:
                    ended = stored[i]
                self.done(row, _ended(self.rt, row, outcome, ended))
            except Exception:  # its end is stored: only its event or hand-over failed (recovery hands over)
                log.exception("after the end of run %s", row.id)
                self.done(row, "error")


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
        return _failed(rt, row, err, reply)
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
    outcome = _execute(rt, row, reply)
    return _ended(rt, row, outcome, ends.finish(rt, row, outcome, reply[0] if reply else None))


def _execute(rt: Runtime, row: Row, reply: list[dict]) -> Outcome:
    """Execute a claimed run; its outcome is not stored yet. A sync reply is appended to `reply`."""
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
    ledger = (DryLedger(rt, row.workspace, frozenset([row.id, *lineage])) if row.dry_run  # reads, never claims
              else DatabaseLedger(rt.sessions, row.workspace, frozenset(lineage)))
    ctx = StepContext(workspace=row.workspace, flow_id=row.flow_id, flow_version=row.version, run_id=row.id,
                      params=plan.params, ledger=ledger,
                      business_key=row.business_key, root_run_id=lineage[-1] if lineage else row.id,
                      on_respond=on_respond,
                      connections=lambda name: connections.resolve(rt, row.workspace, name),
                      lookups=lambda table, key: lookups.get(rt, row.workspace, table, key),
                      trading_partners=lambda step: trading_partners.StepPartners(rt, step),
                      aggregates=lambda step: aggregates.StepAggregates(rt, step, lineage),
                      throttles=lambda step: throttles.StepThrottles(rt, step),
                      wake=lambda run_id: runs.wake(rt, run_id),
                      business_events=lambda step: business_events.StepEvents(
                          rt, step, lineage[-1] if lineage else row.id),
                      waits=lambda step: waits.StepWaits(rt, step),
                      file_dirs=rt.settings.file_dirs, dry_run=row.dry_run)
    run = {"id": row.id, "input": row.input, "input_text": row.input_text, "checkpoint": row.checkpoint,
           "trigger_node": row.trigger_node, "start_node": row.start_node if not row.checkpoint else None}
    rt.events.publish("run.started", _event(row, "running"))
    outcome = execute(plan, run, ctx, rt.events, heartbeat, stop=rt.queue.stopping.is_set,
                      payload_max=rt.settings.step_payload_max)
    if row.dry_run:
        outcome.dead_letters = []  # a dry run's failure is its own (the run shows it), no exception to work on
    return outcome


def _ended(rt: Runtime, row: Row, outcome: Outcome, ended: ends.Ended | None) -> str:
    """After the end write (committed): the retry's job, or the finished event and the hand-over."""
    if ended is None:
        return "lost-lease"
    metrics.executed(row.workspace, row.flow_id, None if outcome.status == "retry" else ended.status, outcome.steps,
                     outcome.dead_letters)
    if outcome.status == "retry":
        runs.enqueue(rt, row.id, outcome.retry_in_s, why="waiting for a retry")
        return ended.status
    finished = {**_event(row, ended.status), "error": outcome.error}
    if ended.output_kept:
        finished["output"] = ended.output
    rt.events.publish("run.finished", finished)
    ends.hand_over(rt, row.workspace, row.flow_id, row.sequence_key)
    return ended.status


def _failed(rt: Runtime, row: Row, err: Exception, reply: list[dict]) -> str:
    """A run that cannot be planned or stored must end failed, not stay `running` and come back after every
    lease expiry to fail the same way for ever."""
    log.error("run %s could not be executed", row.id, exc_info=err)
    error = {"code": "not_runnable" if isinstance(err, PlanError) else "internal_error", "class": "technical",
             "message": f"{type(err).__name__}: {err}"[:2000], "retryable": False}
    if not ends.fail(rt, row, error, reply[0] if reply else None):
        return "lost-lease"
    metrics.executed(row.workspace, row.flow_id, "failed", (), ())
    rt.events.publish("run.finished", {**_event(row, "failed"), "error": error})
    ends.hand_over(rt, row.workspace, row.flow_id, row.sequence_key)
    return "failed"


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

