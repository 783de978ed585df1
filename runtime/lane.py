"""The production lane: run ids due now, batched on a Redis list of the queue's own instead of one RQ job per
run (RQ's bookkeeping per job, a dozen round trips, cost more than a run). runtime/queue.py's RedisQueue
owns one; RQ keeps the delayed jobs.

Web processes hand run ids to a per-process batcher; its thread pushes the ids that came within a window (at
most BATCH_MAX) as one entry (`17,18,19`). Flushes are spaced by the window, not delayed by it: an idle
process flushes at once, a busy one gathers what arrives meanwhile. Worker threads pop an entry (BLPOP) and
run the batch job on it. The lane holds run ids, never the truth: an entry lost with Redis, a flush that
failed or a worker that died between popping and claiming leaves its runs `queued` in the database, and the
lost-job sweep (runtime.jobs.requeue_lost) enqueues them again.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import redis

from runtime.batcher import Batcher

BATCH_MAX = 32  # run ids per entry (a claim takes them in one UPDATE)
BATCH_WINDOW_S = 0.01  # at most one entry per window and process: ~100 pushes/s however many runs
LANE = "crossdock:lane:{}"  # the Redis list, by queue name (RQ's keys are rq:*)
LANE_POLL_S = 0.5  # a serving thread's longest block in BLPOP: how soon it sees that it must stop
log = logging.getLogger(__name__)


def entry(run_ids: list[int]) -> str:
    return ",".join(map(str, run_ids))


def entry_ids(value: bytes | str) -> list[int]:
    """The run ids of a lane entry (`17,18,19`); none when it is not one."""
    parts = (value.decode() if isinstance(value, bytes) else value).split(",")
    return [int(p) for p in parts] if all(p.isdigit() for p in parts) else []


def _not_pushed(run_ids: list[int], err: Exception) -> None:
    log.warning("run %s accepted but not enqueued (%s: %s); it waits queued until the queue answers",
                ", ".join(map(str, run_ids[:20])), type(err).__name__, err)


class Lane:
    """One queue's lane. `before_push` runs before each entry goes to Redis (the runtime sends its live events
    kept in the outbox, so a run's `run.queued` always leaves before a worker's `run.started`)."""

    def __init__(self, redis_url: str, name: str, window_s: float = BATCH_WINDOW_S, batch_max: int = BATCH_MAX):
        # a client of its own: a connection made before RQ's worker raised the pool's socket timeout (redis-py's
        # default: 5 s) and then taken for its blocking dequeue timed that out every 5 s (and RQ backed off)
        self.connection = redis.Redis.from_url(redis_url)
        self.key = LANE.format(name)
        self.batch_max = batch_max
        self.before_push: Callable[[], None] = lambda: None
        self._batcher = Batcher(self._push, _not_pushed, window_s, batch_max)

    def add(self, run_id: int) -> None:
        """Into the next entry, within a window (a few ms); the caller returns at once."""
        self._batcher.add(run_id)

    def push(self, run_ids: list[int]) -> None:
        """These runs on the lane now (entries of at most batch_max), in one round trip; raises when Redis does."""
        chunks = [run_ids[i:i + self.batch_max] for i in range(0, len(run_ids), self.batch_max)]
        if chunks:
            self.before_push()
            self.connection.rpush(self.key, *map(entry, chunks))

    def _push(self, run_ids: list[int]) -> None:
        self.before_push()
        self.connection.rpush(self.key, entry(run_ids))

    def held(self) -> tuple[list[int], list[int]]:
        """(the ids on the list, in queue order; those the batcher holds and did not push yet). The batcher is
        read first: an id it hands on meanwhile is then on the list, and never missed."""
        batched = self._batcher.held()
        listed = [rid for value in self.connection.lrange(self.key, 0, -1) for rid in entry_ids(value)]
        seen = set(listed)
        return listed, [rid for rid in batched if rid not in seen]

    def clear(self) -> None:
        self._batcher.clear()
        self.connection.delete(self.key)

    def close(self) -> None:
        """What the batcher holds goes to Redis now."""
        self._batcher.close()

    def serve(self, job: Callable[[list[int]], object], stop: Callable[[], bool], burst: bool = False,
              busy: Busy | None = None) -> None:
        """Pop entries and run `job` on their ids on this thread until `stop()` (with `burst`: until the list
        is empty). `busy` counts the threads inside a job (a stopping worker gives them a grace period)."""
        while not stop():
            try:
                if burst:
                    value = self.connection.lpop(self.key)
                else:
                    got = self.connection.blpop([self.key], timeout=LANE_POLL_S)
                    value = got[1] if got else None
            except redis.exceptions.RedisError as err:  # the runs are stored: recovery finds them
                log.warning("lane %s: Redis did not answer (%s); trying again", self.key, err)
                time.sleep(1.0)
                continue
            if value is None:
                if burst:
                    return
                continue
            run_ids = entry_ids(value)
            if busy is not None:
                busy.enter()
            try:
                job(run_ids)
            except Exception:  # a broken job must never kill the serving thread
                log.exception("job for runs %s failed", run_ids[:20])
            finally:
                if busy is not None:
                    busy.leave()


class Busy:
    """How many threads are inside a job now (several serve a worker process's lane)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._count = 0

    def enter(self) -> None:
        with self._lock:
            self._count += 1

    def leave(self) -> None:
        with self._lock:
            self._count -= 1

    def is_set(self) -> bool:
        return self._count > 0
