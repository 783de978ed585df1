"""The job queue: the only module that imports rq. Jobs are `runtime.jobs.execute_run(run_id)`.

Production: real Redis and `SimpleWorker`s (no fork per job) in `python run.py worker` processes.
Embedded: the same RQ code path on fakeredis with worker and scheduler threads in this process; its
state dies with the process, so the database stays the source of truth (recovery requeues).
Job ids name their run (`run-<id>-<nonce>`), so recovery can tell which queued runs have no job left.
"""
from __future__ import annotations

import datetime as dt
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
    """The queue of the job this thread is executing (RQ keeps it per worker thread)."""
    job = get_current_job()
    return job.origin if job else None


class JobQueue:
    def __init__(self, redis_url: str = "", name: str = "crossdock"):
        if redis_url:
            self.connection = redis.Redis.from_url(redis_url)
        else:
            import fakeredis  # only the embedded mode needs it

            self.connection = fakeredis.FakeRedis()
        self.embedded = not redis_url
        # an in-memory queue gets a name of its own, so several runtimes in one process never mix jobs
        self.name = f"{name}-{uuid.uuid4().hex[:8]}" if self.embedded else name
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
        """Embedded mode: worker threads plus one scheduler thread for delayed (retry) jobs."""
        for i in range(workers):
            worker = _ThreadWorker([self.queue], connection=self.connection, name=f"embedded-{uuid.uuid4().hex[:8]}-{i}")
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
            except Exception:  # a broken job must never kill the embedded worker
                log.exception("embedded worker loop failed; continuing")
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
                log.exception("embedded scheduler failed; continuing")
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
