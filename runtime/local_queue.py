"""The embedded queue: run ids in this process's memory, served by its worker threads without RQ's bookkeeping
around each job (fetching the job, a timer thread per job, registries: most of a worker thread's time when it
ran on fakeredis). Its state dies with the process, so the database stays the source of truth (recovery
requeues). A worker thread takes its share of the run ids waiting (one when it keeps up) and
runtime.jobs.execute_batch executes them together. runtime/queue.py's JobQueue() makes one without a Redis URL.
"""
from __future__ import annotations

import collections
import heapq
import importlib
import itertools
import logging
import threading
import time
import uuid

from nodes import turns

LOCAL_JOB = "runtime.jobs.execute_batch"  # the run ids a worker thread takes at once
LOCAL_BATCH_MAX = 32
log = logging.getLogger(__name__)
serving = threading.local()  # .queue: the name of the embedded queue this worker thread serves


def job_function(path: str):
    """The job function, found by its import path as RQ finds it (the queue does not import the runtime)."""
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


class LocalQueue:
    """Run ids in memory: worker threads take them in order; delayed ones (retries, a run waiting for an
    earlier one of its key) wait in a heap by due time, which the same threads serve."""

    embedded = True
    # JobQueue's calls (runtime/queue.py registers it as one); run ids in memory, never the truth

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
        job = job_function(LOCAL_JOB)
        self._serving += workers
        for i in range(workers):
            t = threading.Thread(target=self._work, args=(job, False), name=f"crossdock-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def work(self, name: str | None = None, burst: bool = False, grace_s: float = 30.0, overdue=lambda: None) -> None:
        """Execute jobs on this thread until stopped (with `burst`: until none is waiting)."""
        self._serving += 1
        try:
            self._work(job_function(LOCAL_JOB), burst)
        finally:
            self._serving -= 1

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=5)

    def _work(self, job, burst: bool) -> None:
        serving.queue = self.name
        try:
            while run_ids := self._take(burst):
                try:
                    with turns.computing():  # one worker thread at a time in an executor process (nodes/turns.py)
                        job(run_ids)
                except Exception:  # a broken job must never kill the worker thread
                    log.exception("job for runs %s failed", run_ids[:20])
        finally:
            serving.queue = None

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
