"""The token buckets of control.throttle (nodes/control_throttle.py): one per workspace and target system, shared by
every flow of the workspace in every process. A bucket holds at most `burst` tokens and gains `rate_per_s` a second;
a take removes one. So any span of T seconds holds at most burst + rate_per_s * T takes. With `concurrent`, a take
also needs one of that many slots, each held `hold_s` seconds from its take.

On Redis (production) one Lua script refills the bucket by the time elapsed on Redis' own clock (TIME) and takes a
token, or answers how long until one: atomic across every worker process and machine. Without Redis (the embedded
backend) a `throttle_buckets` row (runtime/throttle_models.py) does the same in one locking transaction (SQLite: the
write lock; PostgreSQL: FOR UPDATE), so the executor processes share it too. A take that finds no token takes
nothing: the node parks its message and asks again (nodes.base.Wait).

The wait a refused take answers is an appointment: the bucket keeps the time after the last one it gave (`next`), and
gives the next caller the later of its own wait and that, then moves it on by 1/rate. So N messages parked on one
bucket come back one token apart instead of all at once each time a token is due (each come-back is a run claimed
and executed). An appointment reserves nothing: a message back at its time takes a token like any other, or gets a
new appointment; a parked run that never comes back only delays the others' appointments (at most MAX_APPOINTMENT_S
ahead)."""
from __future__ import annotations

import logging
import math
import time
import uuid
import weakref
from dataclasses import dataclass
from typing import Callable

import redis
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from nodes.base import TECHNICAL, NodeError
from runtime.models import utcnow
from runtime.throttle_models import ThrottleBucket

log = logging.getLogger(__name__)
BUCKET = ThrottleBucket.__table__
COLUMNS = (BUCKET.c.tokens, BUCKET.c.at, BUCKET.c.slots, BUCKET.c.next_at)
IDLE_KEEP_S = 60.0  # a Redis bucket untouched this long after it would be full again is dropped (a full one = none)
# a token's millionth: epoch seconds in a double are exact to ~0.2 µs, so a token refilled exactly may come out
# a hair under one
EPSILON = 1e-6  # as 0.999999 in the Lua script
MAX_APPOINTMENT_S = 60.0  # the furthest ahead a refused take is told to come back

# KEYS: the bucket (hash: tokens, at, next), its slots (sorted set: member -> held until). ARGV: rate, burst,
# concurrent (0: no slots), hold_s, a member for the slot, keep_ms, MAX_APPOINTMENT_S. Answers the wait in seconds as
# a string ("0": taken), since Redis truncates a Lua number to an integer.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst, concurrent, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil or at == nil then tokens, at = burst, now end
if now > at then tokens = tokens + (now - at) * rate; at = now end
if tokens > burst then tokens = burst end
local wait = 0
if tokens < 0.999999 then wait = (1 - tokens) / rate end
if concurrent > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= concurrent then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    local free = tonumber(first[2]) - now
    if free > wait then wait = free end
  end
end
if wait > 0 then
  local appointment = now + wait
  local after = tonumber(redis.call('HGET', KEYS[1], 'next'))
  if after ~= nil and after > appointment then appointment = after end
  if appointment > now + tonumber(ARGV[7]) then appointment = now + tonumber(ARGV[7]) end
  redis.call('HSET', KEYS[1], 'next', tostring(appointment + 1 / rate))
  redis.call('PEXPIRE', KEYS[1], math.ceil((appointment - now) * 1000) + tonumber(ARGV[6]))
  return tostring(appointment - now)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if concurrent > 0 then
  redis.call('ZADD', KEYS[2], now + hold, ARGV[5])
  redis.call('PEXPIRE', KEYS[2], math.ceil(hold * 1000) + 1000)
end
return '0'
"""


@dataclass(frozen=True)
class Limit:
    """What one take asks of a bucket (each take brings its node's config: a bucket has no settings of its own)."""

    rate_per_s: float
    burst: int
    concurrent: int | None = None
    hold_s: float = 0.0


def settle(tokens: float, at: float, slots: list[float], now: float, limit: Limit) -> tuple[float, float, list[float]]:
    """The bucket's state refilled to `now`: (tokens, at, slots still held). A clock that went back refills nothing."""
    if now > at:
        tokens, at = tokens + (now - at) * limit.rate_per_s, now
    return min(tokens, float(limit.burst)), at, [s for s in slots if s > now]


def wait_for(tokens: float, slots: list[float], now: float, limit: Limit) -> float:
    """Seconds until a take may succeed on a settled bucket; 0.0 when it may now."""
    wait = (1.0 - tokens) / limit.rate_per_s if tokens < 1.0 - EPSILON else 0.0
    if limit.concurrent and len(slots) >= limit.concurrent:
        wait = max(wait, min(slots) - now)
    return wait


def appoint(wait: float, after: float | None, now: float, limit: Limit) -> tuple[float, float]:
    """A refused take's appointment: (seconds from now, the bucket's next `after`)."""
    at = min(max(now + wait, after or 0.0), now + MAX_APPOINTMENT_S)
    return at - now, at + 1.0 / limit.rate_per_s


class RedisBuckets:
    """Buckets on Redis, under `prefix` (the queue's name is in it, so installations and tests sharing a Redis
    stay apart)."""

    def __init__(self, connection: redis.Redis, prefix: str):
        self._redis = connection
        self._prefix = prefix
        self._take = connection.register_script(_TAKE)

    def take(self, workspace: str, target: str, limit: Limit) -> float:
        key = f"{self._prefix}:{workspace}:{target}"
        keep_ms = math.ceil((limit.burst / limit.rate_per_s + IDLE_KEEP_S) * 1000)
        answer = self._take(keys=[key, key + ":slots"], args=[
            repr(float(limit.rate_per_s)), limit.burst, limit.concurrent or 0, repr(float(limit.hold_s)),
            uuid.uuid4().hex, keep_ms, repr(MAX_APPOINTMENT_S)])
        return max(0.0, float(answer))


class DatabaseBuckets:
    """Buckets as `throttle_buckets` rows: read, refilled and written in one transaction that holds the row (or, on
    SQLite, the database's write lock) so that no two processes take the same token. `clock` is epoch seconds."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time):
        self._engine = engine
        self._clock = clock

    def take(self, workspace: str, target: str, limit: Limit) -> float:
        key = (BUCKET.c.workspace == workspace) & (BUCKET.c.target == target)
        with self._engine.begin() as conn:
            now = self._clock()
            row = conn.execute(select(*COLUMNS).where(key).with_for_update()).first()
            if row is None:  # its first take: a full bucket (another process may make it first)
                insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(BUCKET)
                conn.execute(insert.values(workspace=workspace, target=target, tokens=float(limit.burst), at=now,
                                           slots=[], updated_at=utcnow()).on_conflict_do_nothing())
                row = conn.execute(select(*COLUMNS).where(key).with_for_update()).one()
            tokens, at, slots = settle(row.tokens, row.at, list(row.slots or []), now, limit)
            wait = wait_for(tokens, slots, now, limit)
            if wait > 0:  # nothing taken: only the appointments move on
                wait, after = appoint(wait, row.next_at, now, limit)
                conn.execute(update(BUCKET).where(key).values(next_at=after))
                return wait
            if limit.concurrent:
                slots.append(now + limit.hold_s)
            conn.execute(update(BUCKET).where(key).values(tokens=tokens - 1.0, at=at, slots=slots,
                                                          updated_at=utcnow()))
        return 0.0


_buckets: "weakref.WeakKeyDictionary[object, RedisBuckets | DatabaseBuckets]" = weakref.WeakKeyDictionary()


def buckets(rt) -> RedisBuckets | DatabaseBuckets:
    """The runtime's buckets: on its Redis when it has one (production), else in its database. One per runtime."""
    found = _buckets.get(rt)
    if found is None:
        settings = rt.settings
        if settings.redis_url:
            connection = getattr(rt.queue, "connection", None) or redis.Redis.from_url(settings.redis_url)
            found = RedisBuckets(connection, f"crossdock:throttle:{settings.queue_name}")
        else:
            found = DatabaseBuckets(rt.engine)
        _buckets[rt] = found
    return found


class StepThrottles:
    """`ctx.throttles` of a running step (nodes.base.Throttles): the buckets of the step's workspace."""

    def __init__(self, rt, ctx):
        self._rt, self._ctx = rt, ctx

    def take(self, target: str, rate_per_s: float, burst: int, concurrent: int | None = None,
             hold_s: float = 0.0) -> float:
        try:
            return buckets(self._rt).take(self._ctx.workspace, target, Limit(rate_per_s, burst, concurrent, hold_s))
        except (redis.RedisError, SQLAlchemyError) as err:
            log.warning("throttle bucket %s of %s could not be read: %s", target, self._ctx.workspace, err)
            raise NodeError("throttle_unavailable", f"the throttle bucket of {target!r} could not be read: "
                            f"{type(err).__name__}", error_class=TECHNICAL, retryable=True) from None
