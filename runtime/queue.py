"""The job queue: the only module that imports rq. `JobQueue(redis_url, name)` is production's RedisQueue with
a Redis URL, else the embedded LocalQueue (runtime/local_queue.py). Jobs are `runtime.jobs.execute_run(run_id)`
(production's lane batches: `execute_runs(run_ids)`; the embedded queue: `execute_batch(run_ids)`).

Production: runs due now go on the lane (runtime/lane.py: run-id batches on a Redis list, popped by threads of
each `python run.py worker` process); delayed ones (retries, a run waiting for an earlier one of its key) are
RQ jobs of their own in RQ's schedule, served by an RQ `SimpleWorker` (no fork per job) beside the lane's
threads. RQ job ids name their runs (`run-<id>-<nonce>`, or `runs-<id>_<id>..-<nonce>` for the batch jobs of
earlier versions, still served), so recovery can tell which queued runs have no job left. The batch job
(runtime.jobs.execute_runs) claims its runs in one UPDATE, executes them one after the other, writes their
ends in one transaction and gives the runs not started back to the lane after a time slice.
"""
from __future__ import annotations

import abc
import datetime as dt
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

from runtime import local_queue
from runtime.lane import BATCH_MAX, BATCH_WINDOW_S, LANE, LANE_POLL_S, Busy, Lane, entry, entry_ids
from runtime.local_queue import LOCAL_BATCH_MAX, LOCAL_JOB, LocalQueue, job_function as _job

JOB = "runtime.jobs.execute_run"
BATCH_JOB = "runtime.jobs.execute_runs"
JOB_TIMEOUT_S = 600
LANE_THREADS = 2  # threads per worker process serving the lane: one executes while another waits on the database
log = logging.getLogger(__name__)
_thread = threading.local()  # .queue: the name of the queue whose lane this thread serves
__all__ = ["BATCH_MAX", "BATCH_WINDOW_S", "LANE", "LANE_POLL_S", "LOCAL_BATCH_MAX", "LOCAL_JOB", "JobQueue",
           "LocalQueue", "RedisQueue", "current_queue_name"]


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
                 lane_busy: Callable[[], bool] = lambda: False, ready: Callable[[], None] = lambda: None, **kwargs):
        super().__init__(*args, **kwargs)
        self._stopping, self._grace_s, self._overdue, self._lane_busy = stopping, grace_s, overdue, lane_busy
        self._ready = ready

    def _install_signal_handlers(self):
        """RQ installs them after its start-up (Redis round trips, the scheduler's fork): `ready` is called once
        SIGTERM is handled, and only then do the lane's threads start taking runs (a run taken before died with
        a SIGTERM that came meanwhile, and a fork beside running threads may copy a lock one of them holds)."""
        super()._install_signal_handlers()
        self._ready()

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


_lane_entry, _lane_ids = entry, entry_ids  # the lane entry's text, by the names tests know


def current_queue_name() -> str | None:
    """The queue of the job this thread is executing (a lane thread or an embedded worker thread serves one
    queue; RQ keeps the job per worker thread)."""
    name = getattr(_thread, "queue", None) or getattr(local_queue.serving, "queue", None)
    if name is not None:
        return name
    job = get_current_job()
    return job.origin if job else None


class JobQueue(abc.ABC):
    """`JobQueue(redis_url, name)`: RQ and the lane on Redis when given a URL, else the embedded queue of this
    process (LocalQueue, registered as one below). Both answer the same calls: enqueue_run(s), pending,
    held_run_ids, waiting_run_ids, clear, start_threads, stop, work, and carry `name`, `embedded` and `stopping`."""

    embedded: bool
    name: str

    def __new__(cls, redis_url: str = "", name: str = "crossdock", **options):
        if cls is JobQueue:
            if not redis_url:
                return LocalQueue(redis_url, name)  # not a subclass: Python calls no __init__ on it again
            cls = RedisQueue
        return super().__new__(cls)


JobQueue.register(LocalQueue)


def _opts(job_id: str) -> dict:
    return dict(job_timeout=JOB_TIMEOUT_S, result_ttl=0, failure_ttl=3600, job_id=job_id)


class RedisQueue(JobQueue):
    """Runs due now on the lane (runtime/lane.py), delayed ones as RQ jobs, on Redis: `run.py worker` processes
    (work), or worker threads in this process (tests)."""

    embedded = False

    def __init__(self, redis_url: str = "", name: str = "crossdock", window_s: float = BATCH_WINDOW_S,
                 batch_max: int = BATCH_MAX):
        self.connection = redis.Redis.from_url(redis_url)  # RQ's: its worker sets the socket timeout it needs
        self.name = name
        self.queue = Queue(self.name, connection=self.connection)
        self.lane = Lane(redis_url, name, window_s, batch_max)
        self._stop = threading.Event()
        self.stopping = threading.Event()  # set when this worker process was asked to shut down
        self._threads: list[threading.Thread] = []
        self._workers: list[SimpleWorker] = []

    @property
    def before_enqueue(self) -> Callable[[], None]:
        """Called before each batch goes to Redis: the runtime sends its live events kept in the outbox, so a
        run's `run.queued` (published by this process) always leaves before a worker's `run.started`."""
        return self.lane.before_push

    @before_enqueue.setter
    def before_enqueue(self, call: Callable[[], None]) -> None:
        self.lane.before_push = call

    @property
    def lane_connection(self) -> redis.Redis:
        return self.lane.connection

    def enqueue_run(self, run_id: int, delay_s: float = 0.0) -> None:
        """A delayed run gets a job of its own in RQ's schedule; one due now joins the next batch (on the lane
        within a window, a few ms)."""
        if delay_s > 0:
            self.queue.enqueue_in(dt.timedelta(seconds=delay_s), JOB, run_id, **_opts(_job_id(run_id)))
        else:
            self.lane.add(run_id)

    def enqueue_runs(self, run_ids: list[int]) -> None:
        """These runs on the lane now, in one round trip; raises when Redis does."""
        self.lane.push(run_ids)

    def pending(self) -> int:
        """Runs waiting for a worker: on the lane or in RQ's queue, or handed to the batcher."""
        return len(self.waiting_run_ids())

    def waiting_run_ids(self) -> list[int]:
        """The runs waiting on the lane, then in RQ's queue (delayed ones that came due), in queue order, then
        those the lane's batcher holds (not the delayed ones)."""
        listed, batched = self.lane.held()
        jobs = [rid for j in self.connection.lrange(self.queue.key, 0, -1) for rid in _run_ids(j)]
        seen = {*listed, *jobs}
        return [*listed, *jobs, *(rid for rid in batched if rid not in seen)]

    def clear(self) -> None:
        """Drop the runs waiting on the lane and the jobs in RQ's queue, as a worker taking them and dying would
        (tests of recovery)."""
        self.lane.clear()
        self.queue.empty()

    def held_run_ids(self, overdue_s: float = 10.0) -> set[int]:
        """Runs waiting on the lane, in RQ's queue or in the batcher, or scheduled and not overdue by
        `overdue_s` (a scheduler whose worker was killed may hold its lock for a minute: its jobs would wait
        that long). An entry or job a worker took but did not claim the runs of (it died) is not counted:
        recovery enqueues those runs again. Nor are the rest of a batch a worker is executing: a time slice
        bounds how long they wait before they are on the lane again (runtime.jobs.execute_runs)."""
        listed, batched = self.lane.held()
        held = {*listed, *batched}
        pipe = self.connection.pipeline(transaction=False)
        pipe.lrange(self.queue.key, 0, -1)
        pipe.zrangebyscore(ScheduledJobRegistry(queue=self.queue).key, time.time() - overdue_s, "+inf")
        jobs, scheduled = pipe.execute()
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

    def _serve_lane(self, burst: bool = False, busy: Busy | None = None) -> None:
        """Execute the lane's batches on this thread until the queue stops or its worker is stopping (with
        `burst`: until the lane is empty)."""
        _thread.queue = self.name
        try:
            self.lane.serve(_job(BATCH_JOB), lambda: self._stop.is_set() or self.stopping.is_set(), burst, busy)
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
        self.lane.close()  # what was accepted meanwhile goes to Redis now
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)

    def work(self, name: str | None = None, burst: bool = False, grace_s: float = 30.0, overdue=lambda: None) -> None:
        """Production (run.py worker): the lane served on LANE_THREADS threads while this thread blocks in an RQ
        SimpleWorker with its scheduler (delayed jobs; signals). On SIGTERM the run in flight on either is
        handed back after its current step; `overdue` runs when a step takes longer than `grace_s`, just
        before the process exits. With `burst`: the lane, then RQ's queue, then the lane again until empty."""
        if burst:
            self._serve_lane(burst=True)
            self._rq_work(name, True, grace_s, overdue, lambda: False)
            self._serve_lane(burst=True)
            return
        busy = Busy()
        lanes = [threading.Thread(target=self._serve_lane, args=(False, busy), name=f"crossdock-lane-{i}", daemon=True)
                 for i in range(LANE_THREADS)]

        def start_lanes() -> None:  # once RQ's worker handles SIGTERM (again after a restart: started once)
            for lane in lanes:
                if lane.ident is None:
                    lane.start()

        try:
            self._rq_work(name, False, grace_s, overdue, busy.is_set, start_lanes)
        except BaseException:  # a cold stop (a second signal): the lane's runs come back when their leases expire
            self._stop.set()
            raise
        self._stop.set()  # RQ's worker returned (stopping, or told to): the lane's threads end their batches, then so do we
        for lane in lanes:
            if lane.ident is not None:
                lane.join()

    def _rq_work(self, name: str | None, burst: bool, grace_s: float, overdue, lane_busy,
                 ready: Callable[[], None] = lambda: None) -> None:
        while True:
            try:
                worker = _GracefulWorker([self.queue], connection=self.connection, name=name,
                                         stopping=self.stopping, grace_s=grace_s, overdue=overdue,
                                         lane_busy=lane_busy, ready=ready)
                worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
                return
            except redis.exceptions.ConnectionError as err:
                # RQ waits out an outage while idle but quits when Redis goes away around a job; the run
                # itself is safe in the database (stored, or recovered by its lease), so start over
                if self.stopping.is_set():
                    raise
                log.warning("worker lost Redis (%s); working again once it answers", err)
                time.sleep(1.0)
