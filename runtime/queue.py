"""The job queue: the only module that imports rq. Jobs are `runtime.jobs.execute_run(run_id)`.

Production: real Redis and RQ `SimpleWorker`s (no fork per job) in `python run.py worker` processes.
Embedded: a queue in this process's memory served by worker threads, without RQ's bookkeeping around
each job (fetching the job, a timer thread per job, registries: most of a worker thread's time when it
ran on fakeredis). Its state dies with the process, so the database stays the source of truth
(recovery requeues). RQ job ids name their run (`run-<id>-<nonce>`), so recovery can tell which queued
runs have no job left; the embedded queue holds run ids themselves.
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

import redis
from rq import Queue, SimpleWorker, get_current_job
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty
from rq.worker import WorkerStatus

JOB = "runtime.jobs.execute_run"
JOB_TIMEOUT_S = 600
log = logging.getLogger(__name__)
_thread = threading.local()  # .queue: the name of the embedded queue this worker thread serves


class _ThreadWorker(SimpleWorker):
    """A SimpleWorker that can live in a non-main thread: no signal handlers, timer-based timeouts."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass


class _GracefulWorker(SimpleWorker):
    """`run.py worker`: SIGTERM sets `stopping`, so the run in flight ends its current step and hands the
    rest back (runtime.jobs); a step still running after `grace_s` makes the worker call `overdue`
    (which hands the run back) and exit."""

    def __init__(self, *args, stopping: threading.Event, grace_s: float, overdue, **kwargs):
        super().__init__(*args, **kwargs)
        self._stopping, self._grace_s, self._overdue = stopping, grace_s, overdue

    def request_stop(self, signum, frame):
        self._stopping.set()
        if self.get_state() == WorkerStatus.BUSY:
            threading.Thread(target=self._deadline, name="crossdock-shutdown-grace", daemon=True).start()
        super().request_stop(signum, frame)

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


def _run_id(job_id: bytes | str) -> int | None:
    parts = (job_id.decode() if isinstance(job_id, bytes) else job_id).split("-")
    return int(parts[1]) if len(parts) == 3 and parts[0] == "run" and parts[1].isdigit() else None


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

    def __new__(cls, redis_url: str = "", name: str = "crossdock"):
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
        job = _job()
        for i in range(workers):
            t = threading.Thread(target=self._work, args=(job, False), name=f"crossdock-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def work(self, name: str | None = None, burst: bool = False, grace_s: float = 30.0, overdue=lambda: None) -> None:
        """Execute jobs on this thread until stopped (with `burst`: until none is waiting)."""
        self._work(_job(), burst)

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=5)

    def _work(self, job, burst: bool) -> None:
        _thread.queue = self.name
        try:
            while (run_id := self._take(burst)) is not None:
                try:
                    job(run_id)
                except Exception:  # a broken job must never kill the worker thread
                    log.exception("job for run %s failed", run_id)
        finally:
            _thread.queue = None

    def _take(self, burst: bool) -> int | None:
        """The next run id: the oldest waiting, after moving the due delayed ones behind them; None once stopped."""
        with self._cond:
            while not self._stop.is_set():
                now = time.monotonic()
                while self._delayed and self._delayed[0][0] <= now:
                    self._ready.append(heapq.heappop(self._delayed)[2])
                if self._ready:
                    return self._ready.popleft()
                if burst:
                    return None
                self._cond.wait(self._delayed[0][0] - now if self._delayed else None)
        return None


def _job():
    """The job function, found by its import path as RQ finds it (the queue does not import the runtime)."""
    module, _, attr = JOB.rpartition(".")
    return getattr(importlib.import_module(module), attr)


class RedisQueue(JobQueue):
    """RQ on Redis: `run.py worker` processes (work), or worker threads in this process (tests)."""

    embedded = False

    def __init__(self, redis_url: str = "", name: str = "crossdock"):
        self.connection = redis.Redis.from_url(redis_url)
        self.name = name
        self.queue = Queue(self.name, connection=self.connection)
        self._stop = threading.Event()
        self.stopping = threading.Event()  # set when this worker process was asked to shut down
        self._threads: list[threading.Thread] = []
        self._workers: list[SimpleWorker] = []

    def enqueue_run(self, run_id: int, delay_s: float = 0.0) -> None:
        opts = dict(job_timeout=JOB_TIMEOUT_S, result_ttl=0, failure_ttl=3600, job_id=_job_id(run_id))
        if delay_s > 0:
            self.queue.enqueue_in(dt.timedelta(seconds=delay_s), JOB, run_id, **opts)
        else:
            self.queue.enqueue(JOB, run_id, **opts)

    def enqueue_runs(self, run_ids: list[int]) -> None:
        if run_ids:
            self.queue.enqueue_many([Queue.prepare_data(JOB, (rid,), timeout=JOB_TIMEOUT_S, result_ttl=0,
                                                        failure_ttl=3600, job_id=_job_id(rid)) for rid in run_ids])

    def pending(self) -> int:
        return self.queue.count

    def waiting_run_ids(self) -> list[int]:
        """The runs of the jobs waiting in the queue, in queue order (not the delayed ones)."""
        return [rid for rid in map(_run_id, self.queue.get_job_ids()) if rid is not None]

    def clear(self) -> None:
        """Drop the jobs waiting in the queue, as a worker taking them and dying would (tests of recovery)."""
        self.queue.empty()

    def held_run_ids(self, overdue_s: float = 10.0) -> set[int]:
        """Runs with a job waiting in the queue, or scheduled and not overdue by `overdue_s` (a scheduler
        whose worker was killed may hold its lock for a minute: its jobs would wait that long). A job a
        worker took but did not claim the run for (it died) is not counted: recovery gives that run a new one."""
        conn = self.connection
        ids = [*conn.lrange(self.queue.key, 0, -1),
               *conn.zrangebyscore(ScheduledJobRegistry(queue=self.queue).key, time.time() - overdue_s, "+inf")]
        return {rid for rid in map(_run_id, ids) if rid is not None}

    # -- workers -------------------------------------------------------------------------------
    def start_threads(self, workers: int = 2) -> None:
        """Worker threads plus one scheduler thread for delayed (retry) jobs."""
        for i in range(workers):
            worker = _ThreadWorker([self.queue], connection=self.connection, name=f"thread-{uuid.uuid4().hex[:8]}-{i}")
            self._workers.append(worker)
            t = threading.Thread(target=self._work, args=(worker,), name=f"crossdock-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._schedule, name="crossdock-scheduler", daemon=True)
        t.start()
        self._threads.append(t)

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
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)

    def work(self, name: str | None = None, burst: bool = False, grace_s: float = 30.0, overdue=lambda: None) -> None:
        """Production: block in an RQ SimpleWorker with its scheduler (run.py worker). On SIGTERM the
        run in flight is handed back after its current step; `overdue` runs when that step takes longer
        than `grace_s`, just before the process exits."""
        while True:
            try:
                worker = _GracefulWorker([self.queue], connection=self.connection, name=name,
                                         stopping=self.stopping, grace_s=grace_s, overdue=overdue)
                worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
                return
            except redis.exceptions.ConnectionError as err:
                # RQ waits out an outage while idle but quits when Redis goes away around a job; the run
                # itself is safe in the database (stored, or recovered by its lease), so start over
                if self.stopping.is_set():
                    raise
                log.warning("worker lost Redis (%s); working again once it answers", err)
                time.sleep(1.0)
