"""The job queue: the only module that imports rq. Jobs are `runtime.jobs.execute_run(run_id)` (production's
lane batches: `execute_runs(run_ids)`; the embedded queue: `execute_batch(run_ids)`).

Production: real Redis and RQ `SimpleWorker`s (no fork per job) in `python run.py worker` processes.
Embedded: a queue in this process's memory served by worker threads, without RQ's bookkeeping around
each job (fetching the job, a timer thread per job, registries: most of a worker thread's time when it
ran on fakeredis). Its state dies with the process, so the database stays the source of truth
(recovery requeues). RQ job ids name their runs (`run-<id>-<nonce>`, or `runs-<id>_<id>..-<nonce>` for the
batch jobs of earlier versions, still served), so recovery can tell which queued runs have no job left; the
lane and the embedded queue hold run ids themselves.

Batches (production): RQ's work around one job (~3 ms and a dozen Redis round trips: fetch, registries,
execution records, heartbeats) was more than a whole run costs, so runs due now do not become RQ jobs: they
go to a per-process batcher first, and its thread pushes the run ids that came within a window (at most
BATCH_MAX) as one entry (`17,18,19`) on a Redis list of the queue's own, the lane (LANE). Flushes are spaced
by the window, not delayed by it: an idle process flushes at once, a busy one gathers what arrives
meanwhile. A worker process pops an entry (BLPOP) and runs runtime.jobs.execute_runs on it, on a thread
beside its RQ worker, which keeps serving the delayed jobs (retries, a job of its own each in RQ's
schedule) with RQ's scheduler. A run accepted but not flushed yet is stored `queued`; if the flush fails
(Redis down), or the process dies first, or a worker dies between popping an entry and claiming its runs,
the lost-job sweep (runtime.jobs.requeue_lost) enqueues it again: the lane, like RQ's queue, holds run ids,
never the truth. The batch (runtime.jobs.execute_runs) claims its runs in one UPDATE, executes them one
after the other, writes their ends in one transaction and gives the runs not started back to the lane after
a time slice (runtime.jobs.run_batch).

Embedded batches: a worker thread takes its share of the run ids waiting (one when it keeps up) and
runtime.jobs.execute_batch executes them the same way.
"""
from __future__ import annotations

import collections
import datetime as dt
import heapq
import importlib
import itertools
import logging
import os
import threading
import time
import uuid
from typing import Callable

import redis
from rq import Queue, SimpleWorker, get_current_job
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty
from rq.worker import WorkerStatus

from runtime.batcher import Batcher

JOB = "runtime.jobs.execute_run"
BATCH_JOB = "runtime.jobs.execute_runs"
LOCAL_JOB = "runtime.jobs.execute_batch"  # the embedded queue's: the run ids a worker thread takes at once
LOCAL_BATCH_MAX = 32
JOB_TIMEOUT_S = 600
BATCH_MAX = 32  # run ids per batch job; its id names them all (well below Redis's key limits)
BATCH_WINDOW_S = 0.01  # at most one batch per window and process: ~100 jobs/s however many runs
LANE = "crossdock:lane:{}"  # the Redis list of run-id batches due now, by queue name (RQ's keys are rq:*)
LANE_POLL_S = 0.5  # a lane thread's longest block in BLPOP: how soon it sees that its worker stops
log = logging.getLogger(__name__)
_thread = threading.local()  # .queue: the name of the embedded queue this worker thread serves


class _ThreadWorker(SimpleWorker):
    """A SimpleWorker that can live in a non-main thread: no signal handlers, timer-based timeouts, and no
    command channel. RQ 3 subscribes every work() call to the worker's pub/sub channel on a thread blocked in
    get_message(timeout=60) and, at its end, joins that thread for up to 1 s, leaving it running when the
    unsubscribe reply was read before the stop: RedisQueue._work calls work(burst=True) every 50 ms, so the
    threads spent ~60 % of their time in that join (6 of 79 passes took 1 s), taking no job, and each such pass
    left its thread and Redis connection behind. Nothing sends RQ commands to these threads; they stop on the
    queue's own event."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass

    def subscribe(self):
        pass

    def unsubscribe(self):
        pass


class _GracefulWorker(SimpleWorker):
    """`run.py worker`: SIGTERM sets `stopping`, so the run in flight (on this thread, or the lane's) ends its
    current step and hands the rest back (runtime.jobs); a step still running after `grace_s` makes the
    worker call `overdue` (which hands the run back) and exit."""

    def __init__(self, *args, stopping: threading.Event, grace_s: float, overdue,
                 lane_busy: Callable[[], bool] = lambda: False, **kwargs):
        super().__init__(*args, **kwargs)
        self._stopping, self._grace_s, self._overdue, self._lane_busy = stopping, grace_s, overdue, lane_busy

    def request_stop(self, signum, frame):
        self._stopping.set()
        if self.get_state() == WorkerStatus.BUSY or self._lane_busy():  # a run in flight on either thread
            threading.Thread(target=self._deadline, name="crossdock-shutdown-grace", daemon=True).start()
        super().request_stop(signum, frame)

    def unsubscribe(self):
        """RQ's, with the pub/sub thread told to end before the UNSUBSCRIBE whose reply wakes it: in RQ's order
        the reply could be read first, and then its thread slept in get_message(timeout=60) while the worker's
        exit waited a second for it (stopping a worker process took 1-2.7 s, mostly that second)."""
        if self.pubsub_thread:
            self.pubsub_thread.stop()
        super().unsubscribe()

    def _deadline(self) -> None:
        time.sleep(self._grace_s)
        log.warning("worker %s: the step in flight outlived the %.0f s shutdown grace; handing its run back",
                    self.name, self._grace_s)
        try:
            self._overdue()
        finally:
            os._exit(1)  # the main thread is stuck inside the step: nothing else would end the process


def _job_id(run_id: int) -> str:
    return f"run-{run_id}-{uuid.uuid4().hex[:12]}"


def _batch_id(run_ids: list[int]) -> str:
    """RQ allows letters, digits, `_` and `-` in a job id (rq.job.validate_job_id)."""
    return f"runs-{'_'.join(map(str, run_ids))}-{uuid.uuid4().hex[:12]}"


def _run_ids(job_id: bytes | str) -> list[int]:
    """The runs a job id names: one (`run-7-<nonce>`), several (`runs-7_8_9-<nonce>`), or none (not ours)."""
    parts = (job_id.decode() if isinstance(job_id, bytes) else job_id).split("-")
    if len(parts) != 3:
        return []
    if parts[0] == "run" and parts[1].isdigit():
        return [int(parts[1])]
    if parts[0] == "runs":
        ids = parts[1].split("_")
        if all(i.isdigit() for i in ids):
            return [int(i) for i in ids]
    return []


def _lane_entry(run_ids: list[int]) -> str:
    return ",".join(map(str, run_ids))


def _lane_ids(entry: bytes | str) -> list[int]:
    """The run ids of a lane entry (`17,18,19`); none when it is not one."""
    parts = (entry.decode() if isinstance(entry, bytes) else entry).split(",")
    return [int(p) for p in parts] if all(p.isdigit() for p in parts) else []


def current_queue_name() -> str | None:
    """The queue of the job this thread is executing (an embedded worker thread serves one queue; RQ
    keeps the job per worker thread)."""
    name = getattr(_thread, "queue", None)
    if name is not None:
        return name
    job = get_current_job()
    return job.origin if job else None


class JobQueue:
    """`JobQueue(redis_url, name)`: RQ on Redis when given a URL, else the embedded queue of this process.
    Both answer the same calls: enqueue_run(s), pending, held_run_ids, waiting_run_ids, clear,
    start_threads, stop, work, and carry `name`, `embedded` and `stopping`."""

    embedded: bool
    name: str

    def __new__(cls, redis_url: str = "", name: str = "crossdock", **options):
        if cls is JobQueue:
            cls = RedisQueue if redis_url else LocalQueue
        return super().__new__(cls)


class LocalQueue(JobQueue):
    """Run ids in memory: worker threads take them in order; delayed ones (retries, a run waiting for an
    earlier one of its key) wait in a heap by due time, which the same threads serve."""

    embedded = True

    def __init__(self, redis_url: str = "", name: str = "crossdock"):
        # a name of its own, so several runtimes in one process never mix jobs
        self.name = f"{name}-{uuid.uuid4().hex[:8]}"
        self.stopping = threading.Event()  # set when this process was asked to shut down
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._ready: collections.deque[int] = collections.deque()
        self._delayed: list[tuple[float, int, int]] = []  # (due, tie-breaker, run id); due on time.monotonic()
        self._order = itertools.count()
        self._threads: list[threading.Thread] = []
        self._serving = 0  # threads executing its jobs (worker threads, and work() callers)

    def enqueue_run(self, run_id: int, delay_s: float = 0.0) -> None:
        with self._cond:
            if delay_s > 0:
                heapq.heappush(self._delayed, (time.monotonic() + delay_s, next(self._order), run_id))
                self._cond.notify_all()  # a thread waiting for a later due time must wait less
            else:
                self._ready.append(run_id)
                self._cond.notify()

    def enqueue_runs(self, run_ids: list[int]) -> None:
        with self._cond:
            self._ready.extend(run_ids)
            self._cond.notify(len(run_ids))

    def pending(self) -> int:
        with self._cond:
            return len(self._ready)

    def held_run_ids(self, overdue_s: float = 10.0) -> set[int]:
        """Runs waiting in the queue, or delayed and not overdue by `overdue_s` (no worker thread took
        them: all busy, or none started). A run a worker thread took is not counted."""
        since = time.monotonic() - overdue_s
        with self._cond:
            return {*self._ready, *(rid for due, _, rid in self._delayed if due > since)}

    def waiting_run_ids(self) -> list[int]:
        with self._cond:
            return list(self._ready)

    def clear(self) -> None:
        with self._cond:
            self._ready.clear()

    # -- workers -------------------------------------------------------------------------------
    def start_threads(self, workers: int = 2) -> None:
        job = _job(LOCAL_JOB)
        self._serving += workers
        for i in range(workers):
            t = threading.Thread(target=self._work, args=(job, False), name=f"crossdock-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def work(self, name: str | None = None, burst: bool = False, grace_s: float = 30.0, overdue=lambda: None) -> None:
        """Execute jobs on this thread until stopped (with `burst`: until none is waiting)."""
        self._serving += 1
        try:
            self._work(_job(LOCAL_JOB), burst)
        finally:
            self._serving -= 1

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=5)

    def _work(self, job, burst: bool) -> None:
        _thread.queue = self.name
        try:
            while run_ids := self._take(burst):
                try:
                    job(run_ids)
                except Exception:  # a broken job must never kill the worker thread
                    log.exception("job for runs %s failed", run_ids[:20])
        finally:
            _thread.queue = None

    def _take(self, burst: bool) -> list[int]:
        """The next run ids, oldest first, after moving the due delayed ones behind them; none once stopped.
        A thread takes its share of what waits (split among the threads serving the queue, at most
        LOCAL_BATCH_MAX): one when the queue keeps up, more when runs pile up, which is when executing them
        together (runtime.jobs.run_batch) saves the most."""
        with self._cond:
            while not self._stop.is_set():
                now = time.monotonic()
                while self._delayed and self._delayed[0][0] <= now:
                    self._ready.append(heapq.heappop(self._delayed)[2])
                if self._ready:
                    n = min(LOCAL_BATCH_MAX, max(1, len(self._ready) // max(1, self._serving)))
                    return [self._ready.popleft() for _ in range(n)]
                if burst:
                    return []
                self._cond.wait(self._delayed[0][0] - now if self._delayed else None)
        return []


def _job(path: str = JOB):
    """The job function, found by its import path as RQ finds it (the queue does not import the runtime)."""
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def _opts(job_id: str) -> dict:
    return dict(job_timeout=JOB_TIMEOUT_S, result_ttl=0, failure_ttl=3600, job_id=job_id)


def _not_enqueued(run_ids: list[int], err: Exception) -> None:
    log.warning("run %s accepted but not enqueued (%s: %s); it waits queued until the queue answers",
                ", ".join(map(str, run_ids[:20])), type(err).__name__, err)


class RedisQueue(JobQueue):
    """Runs due now on the lane, delayed ones as RQ jobs, on Redis: `run.py worker` processes (work), or
    worker threads in this process (tests)."""

    embedded = False

    def __init__(self, redis_url: str = "", name: str = "crossdock", window_s: float = BATCH_WINDOW_S,
                 batch_max: int = BATCH_MAX):
        self.connection = redis.Redis.from_url(redis_url)  # RQ's: its worker sets the socket timeout it needs
        self.name = name
        self.queue = Queue(self.name, connection=self.connection)
        # the lane's own client: a connection made before RQ's worker raised the pool's socket timeout (redis-py's
        # default: 5 s) and then taken for its blocking dequeue timed that out every 5 s (and RQ backed off)
        self.lane_connection = redis.Redis.from_url(redis_url)
        self.lane = LANE.format(name)
        self._stop = threading.Event()
        self.stopping = threading.Event()  # set when this worker process was asked to shut down
        self._threads: list[threading.Thread] = []
        self._workers: list[SimpleWorker] = []
        self.batch_max = batch_max
        self._batcher = Batcher(self._enqueue_batch, _not_enqueued, window_s, batch_max)
        # called before each batch goes to Redis: the runtime sends its live events kept in the outbox, so a
        # run's `run.queued` (published by this process) always leaves before a worker's `run.started`
        self.before_enqueue: Callable[[], None] = lambda: None

    def enqueue_run(self, run_id: int, delay_s: float = 0.0) -> None:
        """A delayed run gets a job of its own in RQ's schedule; one due now joins the next batch (on the lane
        within a window, a few ms)."""
        if delay_s > 0:
            self.queue.enqueue_in(dt.timedelta(seconds=delay_s), JOB, run_id, **_opts(_job_id(run_id)))
        else:
            self._batcher.add(run_id)

    def enqueue_runs(self, run_ids: list[int]) -> None:
        """These runs on the lane now (batches of at most batch_max), in one round trip; raises when Redis does."""
        chunks = [run_ids[i:i + self.batch_max] for i in range(0, len(run_ids), self.batch_max)]
        if chunks:
            self.before_enqueue()
            self.lane_connection.rpush(self.lane, *map(_lane_entry, chunks))

    def _enqueue_batch(self, run_ids: list[int]) -> None:
        self.before_enqueue()
        self.lane_connection.rpush(self.lane, _lane_entry(run_ids))

    def pending(self) -> int:
        """Runs waiting for a worker: on the lane or in RQ's queue, or handed to the batcher."""
        return len(self.waiting_run_ids())

    def waiting_run_ids(self) -> list[int]:
        """The runs waiting on the lane, then in RQ's queue (delayed ones that came due), in queue order, then
        those the batcher holds (not the delayed ones)."""
        held = self._batcher.held()  # first: an id it hands on meanwhile is then on the lane
        lane = self.lane_connection.lrange(self.lane, 0, -1)
        jobs = self.connection.lrange(self.queue.key, 0, -1)
        queued = [rid for entry in lane for rid in _lane_ids(entry)] + [rid for j in jobs for rid in _run_ids(j)]
        seen = set(queued)
        return queued + [rid for rid in held if rid not in seen]

    def clear(self) -> None:
        """Drop the runs waiting on the lane and the jobs in RQ's queue, as a worker taking them and dying would
        (tests of recovery)."""
        self._batcher.clear()
        self.lane_connection.delete(self.lane)
        self.queue.empty()

    def held_run_ids(self, overdue_s: float = 10.0) -> set[int]:
        """Runs waiting on the lane, in RQ's queue or in the batcher, or scheduled and not overdue by
        `overdue_s` (a scheduler whose worker was killed may hold its lock for a minute: its jobs would wait
        that long). An entry or job a worker took but did not claim the runs of (it died) is not counted:
        recovery enqueues those runs again. Nor are the rest of a batch a worker is executing: a time slice
        bounds how long they wait before they are on the lane again (runtime.jobs.execute_runs)."""
        held = set(self._batcher.held())
        lane = self.lane_connection.lrange(self.lane, 0, -1)
        pipe = self.connection.pipeline(transaction=False)
        pipe.lrange(self.queue.key, 0, -1)
        pipe.zrangebyscore(ScheduledJobRegistry(queue=self.queue).key, time.time() - overdue_s, "+inf")
        jobs, scheduled = pipe.execute()
        held.update(rid for entry in lane for rid in _lane_ids(entry))
        return held.union(*map(_run_ids, [*jobs, *scheduled]))

    # -- workers -------------------------------------------------------------------------------
    def start_threads(self, workers: int = 2) -> None:
        """Lane threads, one RQ worker thread for the delayed jobs that came due, and its scheduler thread."""
        for i in range(workers):
            t = threading.Thread(target=self._serve_lane, name=f"crossdock-worker-lane-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        worker = _ThreadWorker([self.queue], connection=self.connection, name=f"thread-{uuid.uuid4().hex[:8]}")
        self._workers.append(worker)
        t = threading.Thread(target=self._work, args=(worker,), name="crossdock-worker-delayed", daemon=True)
        t.start()
        self._threads.append(t)
        t = threading.Thread(target=self._schedule, name="crossdock-scheduler", daemon=True)
        t.start()
        self._threads.append(t)

    def _serve_lane(self, burst: bool = False, busy: threading.Event | None = None) -> None:
        """Execute the lane's batches on this thread until the queue stops or its worker is stopping (with
        `burst`: until the lane is empty)."""
        job = _job(BATCH_JOB)
        _thread.queue = self.name
        try:
            while not self._stop.is_set() and not self.stopping.is_set():
                try:
                    if burst:
                        entry = self.lane_connection.lpop(self.lane)
                    else:
                        got = self.lane_connection.blpop([self.lane], timeout=LANE_POLL_S)
                        entry = got[1] if got else None
                except redis.exceptions.RedisError as err:  # the runs are stored: recovery finds them
                    log.warning("lane %s: Redis did not answer (%s); trying again", self.lane, err)
                    self._stop.wait(1.0)
                    continue
                if entry is None:
                    if burst:
                        return
                    continue
                run_ids = _lane_ids(entry)
                if busy is not None:
                    busy.set()
                try:
                    job(run_ids)
                except Exception:  # a broken job must never kill the lane's thread
                    log.exception("job for runs %s failed", run_ids[:20])
                finally:
                    if busy is not None:
                        busy.clear()
        finally:
            _thread.queue = None

    def _work(self, worker: SimpleWorker) -> None:
        while not self._stop.is_set():
            try:
                worker.work(burst=True, logging_level="WARNING")
            except Exception:  # a broken job must never kill the worker thread
                log.exception("worker thread loop failed; continuing")
            self._stop.wait(0.05)

    def _schedule(self) -> None:
        scheduler = RQScheduler([self.queue], connection=self.connection)
        locked_at = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() - locked_at > 10:  # the lock lives interval + 60 s: refresh well before
                    scheduler.acquire_locks()
                    locked_at = time.monotonic()
                scheduler.enqueue_scheduled_jobs()
            except Exception:
                log.exception("scheduler thread failed; continuing")
            self._stop.wait(0.2)

    def stop(self) -> None:
        self._batcher.close()  # what was accepted meanwhile goes to Redis now
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)

    def work(self, name: str | None = None, burst: bool = False, grace_s: float = 30.0, overdue=lambda: None) -> None:
        """Production (run.py worker): the lane served on a thread of its own while this thread blocks in an RQ
        SimpleWorker with its scheduler (delayed jobs; signals). On SIGTERM the run in flight on either is
        handed back after its current step; `overdue` runs when that step takes longer than `grace_s`, just
        before the process exits. With `burst`: the lane, then RQ's queue, then the lane again until empty."""
        if burst:
            self._serve_lane(burst=True)
            self._rq_work(name, True, grace_s, overdue, lambda: False)
            self._serve_lane(burst=True)
            return
        busy = threading.Event()
        lane = threading.Thread(target=self._serve_lane, args=(False, busy), name="crossdock-lane", daemon=True)
        lane.start()
        try:
            self._rq_work(name, False, grace_s, overdue, busy.is_set)
        except BaseException:  # a cold stop (a second signal): the lane's run comes back when its lease expires
            self._stop.set()
            raise
        self._stop.set()  # RQ's worker returned (stopping, or told to): the lane ends its batch, then so do we
        lane.join()

    def _rq_work(self, name: str | None, burst: bool, grace_s: float, overdue, lane_busy) -> None:
        while True:
            try:
                worker = _GracefulWorker([self.queue], connection=self.connection, name=name,
                                         stopping=self.stopping, grace_s=grace_s, overdue=overdue,
                                         lane_busy=lane_busy)
                worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
                return
            except redis.exceptions.ConnectionError as err:
                # RQ waits out an outage while idle but quits when Redis goes away around a job; the run
                # itself is safe in the database (stored, or recovered by its lease), so start over
                if self.stopping.is_set():
                    raise
                log.warning("worker lost Redis (%s); working again once it answers", err)
                time.sleep(1.0)
