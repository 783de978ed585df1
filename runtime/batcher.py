"""Gathering run ids into batches for the production queue (runtime/queue.py RedisQueue): callers hand
ids over and return at once; one thread per process hands them on, in arrival order, at most `max_ids`
at a time and at most one batch per `window_s`. The first id after a quiet spell goes out at once: the
window spaces batches, it does not delay a lone one.

The ids a batch carries are still held (`held`) while their flush is in flight, so the lost-job sweep
never counts them lost in between. A flush that raises is logged by its caller's `on_error` and its ids
are dropped: their runs are stored `queued`, and the sweep (runtime.jobs.requeue_lost) enqueues them
once the queue answers again.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)


class Batcher:
    def __init__(self, flush: Callable[[list[int]], None], on_error: Callable[[list[int], Exception], None],
                 window_s: float, max_ids: int, name: str = "crossdock-enqueue"):
        self._flush, self._on_error = flush, on_error
        self.window_s, self.max_ids, self._name = window_s, max_ids, name
        self._cond = threading.Condition()
        self._ids: collections.deque[int] = collections.deque()
        self._in_flight: list[int] = []
        self._thread: threading.Thread | None = None
        self._closed = False
        self._last = 0.0  # time.monotonic() of the last flush

    def add(self, run_id: int) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the queue is stopped")
            self._ids.append(run_id)
            if self._thread is None:  # started by the first id, in the process that uses it (after any fork)
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()

    def held(self) -> list[int]:
        """The ids handed over and not flushed yet (including a flush in flight), in arrival order."""
        with self._cond:
            return [*self._in_flight, *self._ids]

    def clear(self) -> None:
        """Drop the ids waiting; a flush in flight ends first (its ids are then the queue's)."""
        with self._cond:
            self._ids.clear()
            while self._in_flight:
                self._cond.wait()

    def close(self, timeout_s: float = 5.0) -> None:
        """Flush what waits, then end the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._ids and not self._closed:
                    self._cond.wait()
                if not self._ids:
                    return  # closed and nothing left
                # space batches by the window, unless the batch is full or the queue is stopping
                due = self._last + self.window_s
                while not self._closed and len(self._ids) < self.max_ids and (now := time.monotonic()) < due:
                    self._cond.wait(due - now)
                batch = [self._ids.popleft() for _ in range(min(self.max_ids, len(self._ids)))]
                self._in_flight = batch
                self._last = time.monotonic()
            try:
                self._flush(batch)
            except Exception as err:  # Redis away: the runs wait `queued` for the lost-job sweep
                try:
                    self._on_error(batch, err)
                except Exception:
                    log.exception("enqueue of runs %s failed", batch[:20])
            finally:
                with self._cond:
                    self._in_flight = []
                    self._cond.notify_all()
