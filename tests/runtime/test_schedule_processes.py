"""Issue 16, acceptance 1: with two `run.py worker` and two `run.py web` processes running (production: PostgreSQL +
Redis), an every-minute event.schedule fires exactly once per tick over 5 minutes of simulated time. The processes
share a clock file (CROSSDOCK_CLOCK_FILE, runtime/clock.py) that the test moves a minute at a time; each tick is
waited for until both workers have tried it (their log line), so a tick fired twice would be seen. The schedule's
maintenance pass runs in the workers only: `run.py web` serves and runs no maintenance (docs/nodes.md)."""
from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections import Counter

import pytest
import requests
from sqlalchemy import create_engine, select

from designer import drafts
from runtime import clock, deployments
from runtime.models import Run, ScheduleFire
from support import processes, services, wait_for
from support.flowdocs import done, edge
from support.services import BACKENDS, PG_URL

T0 = dt.datetime(2030, 1, 1, 0, 0)  # simulated minutes; after the deploy (real time), so each one is a tick
TICKS = 5
WORKERS, WEBS = ("worker-0", "worker-1"), ("web-0", "web-1")
LINE = re.compile(r"schedule tick (\S+)Z of flow (\S+) node tick \(workspace default\): "
                  r"(fired as run \d+|fired by another process)")



@pytest.fixture
def cluster(request, tmp_path):
    """Two workers and two web servers on a PostgreSQL schema of this test's own (no other test's schedules to
    fire), a queue of its own and a clock file set before any deploy; a Runtime of the test's (no workers)."""
    from runtime.settings import from_env
    from runtime.wiring import Runtime

    services.count(request)
    schema = f"cd_sched_{services.RUN_ID}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(PG_URL)
    with engine.begin() as c:
        c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    path = tmp_path / "clock"
    clock.write(str(path), dt.datetime(2020, 1, 1))  # before the deploy: nothing is due
    env = {**os.environ, "CROSSDOCK_DATABASE_URL": PG_URL, "CROSSDOCK_DATABASE_SCHEMA": schema,
           "CROSSDOCK_REDIS_URL": request.getfixturevalue("redis_db"), "CROSSDOCK_QUEUE": services.queue_name(),
           "CROSSDOCK_HOST": "127.0.0.1", "CROSSDOCK_DATA_DIR": str(tmp_path), "CROSSDOCK_MAINTENANCE_S": "0.2",
           "CROSSDOCK_CLOCK_FILE": str(path), "PYTHONUNBUFFERED": "1",
           "CROSSDOCK_SECRET_KEY": "test-schedule-processes-key"}  # production refuses the built-in key
    rt = Runtime(from_env(env))  # migrates the schema before the processes start
    procs, urls = {}, []
    try:
        for name in WORKERS:
            procs[name] = processes.start(["worker"], env, tmp_path / f"{name}.log")
        for name in WEBS:
            port = processes.free_port()
            procs[name] = processes.start(["web"], {**env, "CROSSDOCK_PORT": str(port)}, tmp_path / f"{name}.log")
            urls.append(f"http://127.0.0.1:{port}")
        yield rt, path, procs, urls, lambda name: (tmp_path / f"{name}.log").read_text(errors="replace")
    finally:
        processes.stop_all(procs.values(), 10)  # all asked at once: each waits out its shutdown in parallel
        rt.close()
        with engine.begin() as c:
            c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/api/v1/node-types", timeout=2).status_code == 401  # up, and asks for a login
    except requests.ConnectionError:
        return False


@pytest.mark.skipif("services" not in BACKENDS, reason="needs the machine's PostgreSQL and Redis")
def test_two_workers_and_two_web_servers_fire_an_every_minute_schedule_once_per_tick(cluster):
    rt, path, procs, urls, log = cluster
    flow_id = f"sched-{uuid.uuid4().hex[:8]}"
    doc = {"schema": "crossdock.flow/1", "id": flow_id, "name": "Stock report every minute",
           "nodes": [{"id": "tick", "type": "event.schedule",
                      "config": {"cron": "* * * * *", "timezone": "Europe/Berlin", "input": {"report": "stock"}}},
                     done("the report's run is what the test counts")],
           "edges": [edge(1, "tick", "done")]}
    drafts.create(rt, "default", doc)
    deployments.deploy(rt, "default", flow_id, drafts.load_or_400(doc))

    def alive() -> bool:
        exited = {n: p.returncode for n, p in procs.items() if p.poll() is not None}
        assert not exited, (exited, {n: log(n)[-2000:] for n in exited})
        return True

    def tried(name: str) -> dict[str, list[str]]:
        """Per tick this process tried: what came of it."""
        seen: dict[str, list[str]] = {}
        for tick, flow, outcome in LINE.findall(log(name)):
            if flow == flow_id:
                seen.setdefault(tick, []).append(outcome)
        return seen

    def fired() -> list[dt.datetime]:
        with rt.sessions() as s:
            return s.scalars(select(ScheduleFire.due_at).where(ScheduleFire.flow_id == flow_id)
                             .order_by(ScheduleFire.due_at)).all()

    wait_for(lambda: alive() and all(_answers(u) for u in urls), 90, 0.2)  # every process up before the clock moves
    ticks = [T0 + dt.timedelta(minutes=k) for k in range(TICKS)]
    for k, tick in enumerate(ticks):
        clock.write(str(path), tick + dt.timedelta(seconds=30))
        key = tick.isoformat()
        # the tick's run is stored and both workers have tried the tick: a second firing would be here by now
        wait_for(lambda: alive() and len(fired()) > k and all(key in tried(w) for w in WORKERS), 60 if k == 0 else 20,
                 0.1)

    assert fired() == ticks  # one fired tick per simulated minute, none twice, none skipped
    with rt.sessions() as s:
        runs = s.execute(select(Run.id, Run.trigger, Run.trigger_node, Run.input).where(Run.flow_id == flow_id)).all()
    assert len(runs) == TICKS and {(r.trigger, r.trigger_node) for r in runs} == {("schedule", "tick")}
    assert all(r.input == {"report": "stock"} for r in runs)
    attempts = {w: tried(w) for w in WORKERS}
    for tick in ticks:
        outcomes = [o for w in WORKERS for o in attempts[w].get(tick.isoformat(), [])]
        assert len(outcomes) == len(WORKERS), (tick, attempts)  # each worker tried it once
        assert sum(o.startswith("fired as run") for o in outcomes) == 1, (tick, attempts)  # and one of them won
    # the runs were executed by the workers, and the web servers served throughout
    def statuses() -> Counter:
        with rt.sessions() as s:
            return Counter(s.scalars(select(Run.status).where(Run.flow_id == flow_id)).all())

    wait_for(lambda: statuses() == {"succeeded": TICKS}, 30, 0.1)
    assert alive() and all(_answers(u) for u in urls)
    assert not any(LINE.search(log(w)) for w in WEBS)  # web processes run no maintenance pass
