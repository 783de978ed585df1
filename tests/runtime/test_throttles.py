"""control.throttle's token buckets (runtime/throttles.py): burst, rate, concurrency slots and the wait they answer,
on the database row (with a clock the test moves, on SQLite and PostgreSQL) and on the runtime's own backend (the
row embedded, Redis in production), shared by separate processes without a token taken twice."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import select

from nodes.base import NodeError
from runtime import throttles
from runtime.throttle_models import ThrottleBucket
from runtime.throttles import DatabaseBuckets, Limit, RedisBuckets, StepThrottles
from support import wait_for
from support.processes import ROOT


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clocked(store):
    clock = Clock()
    return DatabaseBuckets(store.engine, clock), clock


def test_a_full_bucket_gives_burst_tokens_at_once_then_the_wait_for_the_next(clocked, workspace):
    buckets, clock = clocked
    limit = Limit(rate_per_s=2.0, burst=3)
    assert [buckets.take(workspace, "erp", limit) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take(workspace, "erp", limit) == pytest.approx(0.5)  # one token a half second
    clock.now += 0.5
    assert buckets.take(workspace, "erp", limit) == 0.0  # a refused take took nothing
    assert buckets.take(workspace, "erp", limit) == pytest.approx(0.5)


def test_refused_takes_get_appointments_one_token_apart_and_an_appointment_reserves_nothing(clocked, workspace):
    """Five messages parked on an empty bucket come back one after the other, not all five for each token."""
    buckets, clock = clocked
    limit = Limit(rate_per_s=10.0, burst=1)
    assert buckets.take(workspace, "erp", limit) == 0.0
    waits = [buckets.take(workspace, "erp", limit) for _ in range(5)]
    assert waits == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    clock.now += 0.1
    assert buckets.take(workspace, "erp", limit) == 0.0  # whoever comes when a token is there takes it
    assert buckets.take(workspace, "erp", limit) == pytest.approx(0.5)  # a newcomer queues after the five
    clock.now += 3600
    assert buckets.take(workspace, "erp", limit) == 0.0
    assert buckets.take(workspace, "erp", limit) == pytest.approx(0.1)  # old appointments are forgotten
    slow = Limit(rate_per_s=1.0, burst=1)
    assert buckets.take(workspace, "tms", slow) == 0.0
    assert max(buckets.take(workspace, "tms", slow) for _ in range(70)) == pytest.approx(
        throttles.MAX_APPOINTMENT_S)  # never further ahead than that


def test_the_rate_holds_over_time_and_an_idle_bucket_fills_to_burst_only(clocked, workspace):
    buckets, clock = clocked
    limit = Limit(rate_per_s=10.0, burst=10)
    taken = []
    for tick in range(300):  # 3 s of asking every 10 ms
        if buckets.take(workspace, "erp", limit) == 0.0:
            taken.append(clock.now)
        clock.now += 0.01
    assert len(taken) == pytest.approx(10 + 10 * 3, abs=1)  # burst + rate x time
    for i, start in enumerate(taken):  # any span of T seconds: at most burst + rate x T
        for j in range(i, len(taken)):
            assert j - i + 1 <= 10 + 10 * (taken[j] - start) + 1e-6
    clock.now += 3600  # an hour idle: full again, no more
    assert sum(buckets.take(workspace, "erp", limit) == 0.0 for _ in range(15)) == 10


def test_concurrent_slots_are_held_for_hold_s_and_the_wait_says_until_the_first_frees(clocked, store, workspace):
    buckets, clock = clocked
    limit = Limit(rate_per_s=1000.0, burst=1000, concurrent=2, hold_s=30.0)
    assert buckets.take(workspace, "wms", limit) == 0.0
    clock.now += 10
    assert buckets.take(workspace, "wms", limit) == 0.0
    assert buckets.take(workspace, "wms", limit) == pytest.approx(20.0)
    clock.now += 20.001
    assert buckets.take(workspace, "wms", limit) == 0.0  # the first slot freed
    assert buckets.take(workspace, "wms", limit) == pytest.approx(9.999)
    with store.sessions() as s:
        row = s.execute(select(ThrottleBucket).where(ThrottleBucket.workspace == workspace)).scalar_one()
        assert len(row.slots) == 2  # expired slots are dropped, never piled up


def test_buckets_are_per_workspace_and_target_and_a_clock_going_back_refills_nothing(clocked, workspace):
    buckets, clock = clocked
    limit = Limit(rate_per_s=1.0, burst=1)
    assert buckets.take(workspace, "erp", limit) == 0.0
    assert buckets.take(workspace, "erp", limit) > 0
    assert buckets.take(workspace, "tms", limit) == 0.0  # another system of the workspace
    assert buckets.take(workspace + "x", "erp", limit) == 0.0  # another workspace's ERP
    clock.now -= 100
    assert 0 < buckets.take(workspace, "erp", limit) <= throttles.MAX_APPOINTMENT_S


def test_the_runtimes_buckets_on_its_backend(store, workspace):
    """Redis in production (its clock is Redis' own TIME), the database row embedded."""
    buckets = throttles.buckets(store)
    assert isinstance(buckets, RedisBuckets if store.settings.redis_url else DatabaseBuckets)
    assert throttles.buckets(store) is buckets
    limit = Limit(rate_per_s=20.0, burst=2)
    assert [buckets.take(workspace, "erp", limit) for _ in range(2)] == [0.0, 0.0]
    wait = buckets.take(workspace, "erp", limit)
    assert 0 < wait <= 0.05
    wait_for(lambda: buckets.take(workspace, "erp", limit) == 0.0, 10)  # a token comes back with time
    slow = Limit(rate_per_s=1.0, burst=1)  # appointments one token (a second) apart, less the time between the asks
    assert buckets.take(workspace, "tms", slow) == 0.0
    waits = [buckets.take(workspace, "tms", slow) for _ in range(4)]
    assert 0.5 < waits[0] <= 1.0 and all(0.5 < b - a <= 1.0 + 1e-6 for a, b in zip(waits, waits[1:])), waits
    slots = Limit(rate_per_s=1000.0, burst=1000, concurrent=1, hold_s=60.0)
    assert buckets.take(workspace, "edi", slots) == 0.0
    assert 59 < buckets.take(workspace, "edi", slots) <= 60


def test_a_bucket_that_cannot_be_read_is_a_technical_retryable_node_error(store, workspace, monkeypatch):
    class Step:
        pass

    step = Step()
    step.workspace = workspace
    monkeypatch.setitem(throttles._buckets, store, RedisBuckets(redis.Redis(
        port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)), "x"))
    with pytest.raises(NodeError) as err:
        StepThrottles(store, step).take("erp", 1.0, 1)
    assert err.value.code == "throttle_unavailable" and err.value.retryable and err.value.error_class == "technical"


CHILD = """
import json, sys
sys.path.insert(0, {root!r})
import redis
from runtime import db
from runtime.throttles import DatabaseBuckets, Limit, RedisBuckets
cfg = json.loads(sys.argv[1])
if cfg["redis"]:
    buckets = RedisBuckets(redis.Redis.from_url(cfg["redis"]), cfg["prefix"])
else:
    buckets = DatabaseBuckets(db.make_engine(cfg["url"], cfg["schema"]))
print(sum(buckets.take(cfg["workspace"], "erp", Limit(0.001, 30)) == 0.0 for _ in range(40)))
"""


def test_two_processes_share_a_bucket_and_never_take_a_token_twice(store, workspace):
    """Burst 30, no refill to speak of: 80 takes from two processes at once pass exactly 30 times."""
    from runtime import db

    settings = store.settings
    cfg = json.dumps({"redis": settings.redis_url, "prefix": f"crossdock:throttle:{settings.queue_name}",
                      "url": settings.database_url or db.default_sqlite_url(settings.data_dir),
                      "schema": settings.database_schema, "workspace": workspace})
    code = CHILD.format(root=ROOT)
    children = [subprocess.Popen([sys.executable, "-c", code, cfg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 cwd=ROOT, env={**os.environ}) for _ in range(2)]
    passed = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err.decode()
        passed.append(int(out))
    assert sum(passed) == 30, passed
    assert throttles.buckets(store).take(workspace, "erp", Limit(0.001, 30)) > 0  # this process sees it empty
