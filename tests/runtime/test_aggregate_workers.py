"""Issue 16, acceptance 3 with real processes: a `run.py worker` (production mode: PostgreSQL + Redis) SIGKILLed while
it gathers a 1,000-line order's parts; a second worker takes the run over once its lease expires, executes it again
from the start, and the result holds every line once, in order, from parts stored once each."""
from __future__ import annotations

import contextlib
import os
import signal
import uuid

import pytest
import redis
from sqlalchemy import func, select

from support import processes, wait_for
from support.flowdocs import edge
from support.services import BACKENDS

LINES = 1000



@pytest.fixture
def production(request, tmp_path):
    """`run.py worker` processes on this run's PostgreSQL schema and a queue of their own, with a short lease, and a
    Runtime of the test's own (no workers) to deploy, start and read runs."""
    from runtime.settings import from_env
    from runtime.wiring import Runtime

    env = processes.production_env(request, tmp_path, "test-aggregate-workers-key", CROSSDOCK_LEASE_S="2",
                                   CROSSDOCK_MAINTENANCE_S="0.5")
    rt = Runtime(from_env(env))
    started = []

    def start():
        started.append(processes.start(["worker"], env, tmp_path / f"worker-{len(started)}.log"))
        return started[-1]

    start.env, start.rt = env, rt
    yield start
    processes.stop_all(started)
    rt.close()


@pytest.mark.skipif("services" not in BACKENDS, reason="needs the machine's PostgreSQL and Redis")
def test_a_worker_killed_mid_aggregate_loses_no_line_and_the_next_worker_emits_each_once(production):
    from designer import drafts
    from runtime import deployments, history, intake
    from runtime.aggregate_models import AggregateGroup, AggregatePart
    from runtime.models import Run

    rt = production.rt
    workspace = f"agg{uuid.uuid4().hex[:8]}"
    rt.ensure_workspace(workspace)
    doc = {"schema": "crossdock.flow/1", "id": "order-lines", "name": "Order lines split and gathered",
           "nodes": [{"id": "start", "type": "event.manual"},
                     {"id": "split", "type": "transform.split", "config": {"lines": "order.lines"}},
                     {"id": "gather", "type": "transform.aggregate",
                      "config": {"part": "line", "result": "{'lines': parts, 'complete': complete}"}},
                     {"id": "done", "type": "control.discard", "config": {"reason": "the run's output"}}],
           "edges": [edge(1, "start", "split"), edge(2, "split", "gather"), edge(3, "split", "done", "empty"),
                     edge(4, "gather", "done"), edge(5, "gather", "done", "partial")]}
    drafts.create(rt, workspace, doc)
    version = deployments.deploy(rt, workspace, doc["id"], drafts.load_or_400(doc))
    queue = redis.Redis.from_url(production.env["CROSSDOCK_REDIS_URL"])
    workers = f"rq:workers:{production.env['CROSSDOCK_QUEUE']}"
    first = production()
    wait_for(lambda: queue.scard(workers) >= 1, 60, 0.1)

    lines = [{"sku": f"S{i}", "qty": i % 9 + 1} for i in range(LINES)]
    run = intake.start(rt, workspace, doc["id"], version, {"order": {"lines": lines}}, trigger="manual",
                       trigger_node="start")

    def parts() -> int:
        with rt.read_sessions() as s:
            return s.scalar(select(func.count()).select_from(AggregatePart).where(AggregatePart.workspace == workspace))

    wait_for(lambda: parts() >= 50, 60, 0.002)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(first.pid, signal.SIGKILL)  # mid-aggregate: no end, no checkpoint of the run is written
    first.wait(10)
    at_kill = parts()
    assert 50 <= at_kill < LINES, at_kill
    with rt.read_sessions() as s:
        assert s.get(Run, run.id).status == "running"  # as the dead worker left it

    production()  # takes the run over once its lease has expired, and executes it again from the start
    wait_for(lambda: history.get_run(rt, workspace, run.id)["status"] in ("succeeded", "failed"), 90, 0.2)
    ended = history.get_run(rt, workspace, run.id)
    assert ended["status"] == "succeeded", ended.get("error")
    assert ended["output"] == {"lines": lines, "complete": True}
    assert [s.get("port") for s in ended["steps"] if s["node_id"] == "gather" and s.get("port")] == ["out"]
    assert parts() == LINES
    with rt.read_sessions() as s:
        group = s.scalars(select(AggregateGroup).where(AggregateGroup.workspace == workspace)).one()
        assert (group.status, group.received, group.owner_run) == ("complete", LINES, run.id)
        assert s.get(Run, run.id).takeovers == 1
