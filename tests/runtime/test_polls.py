"""event.poll in the runtime: the watermark cursor kept per flow and node, the lease that lets one process poll at a
time, and issue 16's acceptance 2: a poll flow stopped and restarted mid-stream (process restart, a process killed
while polling, undeploy and redeploy) neither repeats nor misses a record of 10,000 inserted into PostgreSQL while it
polls. The clock is the test's: each poll is driven directly with its `now`, nothing sleeps."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, delete, insert, select, update

from runtime import connections, deployments, egress, polls
from runtime.models import Run
from runtime.poll_models import PollCursor
from runtime.wiring import Runtime
from nodes import sql_targets
from support import identity, services, wait_for
from support.databases import postgres_database
from support.services import ONLY_EMBEDDED, ONLY_SERVICES
from support.deploys import deploy

T0 = dt.datetime(2026, 11, 28, 6, 0)
TICK = dt.timedelta(seconds=5)


def flow(connection: str = "src", table: str = "changes", **config) -> dict:
    return {"schema": "crossdock.flow/1", "id": "feed", "name": "feed",
            "nodes": [{"id": "poll", "type": "event.poll",
                       "config": {"connection": connection, "table": table, "timestamp_field": "changed_at",
                                  "interval_s": 5, **config}},
                      {"id": "end", "type": "control.discard", "config": {"reason": "the test reads the runs"}}],
            "edges": [{"id": "e1", "source": "poll", "source_port": "out", "target": "end", "target_port": "in"}]}



def own(rt, workspace: str, partner: str) -> None:
    identity.make_partner(rt, partner)
    rt.ensure_workspace(workspace, partner_id=partner)


def polled(rt, workspace: str) -> list[int]:
    """The source ids of the runs the poll started, in run order."""
    with rt.sessions() as s:
        inputs = s.scalars(select(Run.input).where(Run.workspace == workspace, Run.trigger == "poll")
                           .order_by(Run.id)).all()
    return [i["id"] for i in inputs]


def cursor(rt, workspace: str) -> PollCursor:
    with rt.sessions() as s:
        return s.get(PollCursor, (workspace, "feed", "poll"))


class Source:
    """The `changes` table of a database the test owns: rows of (id, changed_at), several per timestamp."""

    def __init__(self, url: str):
        self.engine = create_engine(url)
        with self.engine.begin() as c:
            c.exec_driver_sql("DROP TABLE IF EXISTS changes")
            c.exec_driver_sql("CREATE TABLE changes (id INTEGER PRIMARY KEY, changed_at TIMESTAMP NOT NULL, "
                              "sku VARCHAR(20))")
            c.exec_driver_sql("CREATE INDEX changes_watermark ON changes (changed_at, id)")  # what a poll reads by
        self.table = Table("changes", MetaData(), Column("id", Integer), Column("changed_at", DateTime),
                           Column("sku", String))
        self.count = 0

    def add(self, n: int, per_timestamp: int = 7) -> None:
        """`n` more rows, committed together: `per_timestamp` share each timestamp (a timestamp's rows may span two
        calls, and any batch), ids grow, and the rows are written in reverse, so no order comes from storage."""
        if n <= 0:
            return
        rows = [{"id": i, "sku": f"S{i}", "changed_at": T0 + dt.timedelta(milliseconds=i // per_timestamp)}
                for i in range(self.count, self.count + n)]
        with self.engine.begin() as c:
            c.execute(insert(self.table), rows[::-1])
        self.count += n

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture(scope="module")
def pg_database():
    """One PostgreSQL database for the module's tests (each makes its table afresh)."""
    if not services.SERVICES:
        yield None
        return
    with postgres_database("poll") as url:
        yield url
        sql_targets.dispose_all()  # the pooled connections of the poller, before the database is dropped


@pytest.fixture
def pg_source(request, pg_database):
    if pg_database is None:
        pytest.skip("PostgreSQL does not answer (CI requires it: CROSSDOCK_REQUIRE_SERVICES=1)")
    services.count(request)
    source = Source(pg_database.render_as_string(hide_password=False))
    yield source, pg_database
    source.close()


def save_pg(rt, workspace: str, url) -> None:
    connections.save(rt, workspace, "src", {"system": "sql", "base_url": url.render_as_string(hide_password=False)})
    egress.allow(rt, workspace, f"{url.host}:{url.port or 5432}")


@pytest.mark.parametrize("backend", ONLY_EMBEDDED, indirect=True)
def test_stopped_and_restarted_mid_stream_it_neither_repeats_nor_misses_a_record(make_settings, workspace, partner,
                                                                                pg_source):
    """Issue 16 acceptance 2: 10,000 rows are inserted into PostgreSQL by a writer thread, a transaction of 263 rows
    per tick racing that tick's polls, while two processes poll by turns; midway one process is restarted, one is
    killed holding the lease, and the flow is undeployed for a while (rows keep arriving) and deployed again."""
    source, url = pg_source
    settings = make_settings()
    a, b = Runtime(settings), Runtime(settings)  # two processes on one database
    own(a, workspace, partner)
    save_pg(a, workspace, url)
    deploy(a, workspace, flow(batch_size=300, max_per_poll=900))
    go, failed = threading.Semaphore(0), []

    def write() -> None:
        try:
            while source.count < 10_000:
                go.acquire()
                source.add(min(263, 10_000 - source.count))
        except Exception as err:  # noqa: BLE001 - reported by the test below
            failed.append(err)

    writer = threading.Thread(target=write, name="source-writer")
    writer.start()
    now, tick, took = T0, 0, {"a": 0, "b": 0}
    try:
        while True:
            finished = not writer.is_alive()  # then this tick's polls see every row
            go.release()
            if tick == 10:  # process a restarts: a new Runtime, nothing kept in memory
                a.close()
                a = Runtime(settings)
            if tick == 20:  # a process is killed after taking the lease: nothing of its poll stays
                assert polls.LEASES.take(b, _key(workspace), "killed", now)
                assert polls.poll_due(a, now + dt.timedelta(seconds=polls.LEASE_S - 1), "a") == []
                assert polls.poll_due(b, now + dt.timedelta(seconds=polls.LEASE_S - 1), "b") == []
                now += dt.timedelta(seconds=polls.LEASE_S + 1)
            if tick == 30:  # stopped: undeployed for three ticks while rows keep coming, then deployed again
                deployments.undeploy(a, workspace, "feed")
                for _ in range(3):
                    go.release()
                    assert polls.poll_due(a, now, "a") == [] and polls.poll_due(b, now, "b") == []
                    now += TICK
                assert deploy(a, workspace, flow(batch_size=300, max_per_poll=900)) == 2
            first, second = ((a, "a"), (b, "b")) if tick % 2 == 0 else ((b, "b"), (a, "a"))
            # the second may go on at the same time where the first stopped at max_per_poll: after it, not beside it
            started = polls.poll_due(first[0], now, first[1]), polls.poll_due(second[0], now, second[1])
            took[first[1]] += bool(started[0])
            took[second[1]] += bool(started[1])
            now += TICK
            tick += 1
            if finished and not (started[0] or started[1]):
                break
            assert tick < 100
        assert not failed and source.count == 10_000
        ids = polled(a, workspace)
        assert len(ids) == 10_000 and sorted(ids) == list(range(10_000))  # none missed, none twice
        assert ids == sorted(ids)  # and the runs were started in watermark order
        row = cursor(a, workspace)
        assert (row.records, row.holder, row.error) == (10_000, None, None)
        assert took["a"] > 5 and took["b"] > 5  # both processes polled, by turns
    finally:
        source.count = max(source.count, 10_000)  # a writer still waiting ends
        for _ in range(100):
            go.release()
        writer.join()
        a.close()
        b.close()


def _key(workspace: str):
    c = polls.CURSOR.c
    return (c.workspace == workspace) & (c.flow_id == "feed") & (c.node_id == "poll")


@pytest.fixture
def sqlite_source(make_settings, tmp_path):
    """A SQLite source in a folder the runtime's settings allow (CROSSDOCK_SQL_FILE_DIRS)."""
    folder = tmp_path / "sources"
    folder.mkdir()
    source = Source(f"sqlite:///{folder / 'source.db'}")
    yield source, make_settings(sql_file_dirs=(str(folder),)), f"sqlite:///{folder / 'source.db'}"
    source.close()


@pytest.mark.parametrize("backend", ONLY_EMBEDDED, indirect=True)
def test_the_lease_lets_one_process_poll_and_a_poll_that_lost_it_stores_nothing(sqlite_source, workspace, partner,
                                                                                 monkeypatch):
    source, settings, url = sqlite_source
    rt = Runtime(settings)
    try:
        own(rt, workspace, partner)
        connections.save(rt, workspace, "src", {"system": "sql", "base_url": url})
        deploy(rt, workspace, flow())
        source.add(20)
        module = rt.plan_for(workspace, "feed", 1).nodes["poll"].module
        fetch = module.fetch

        def slow_fetch(*args):  # while "a" reads the source, its lease expires and "b" takes over
            found = fetch(*args)
            assert polls.LEASES.take(rt, _key(workspace), "b", T0 + dt.timedelta(seconds=polls.LEASE_S + 1))
            return found

        monkeypatch.setattr(module, "fetch", slow_fetch)
        assert polls.poll_due(rt, T0, "a") == []
        assert polled(rt, workspace) == [] and cursor(rt, workspace).watermark is None
        monkeypatch.setattr(module, "fetch", fetch)
        later = T0 + dt.timedelta(seconds=2 * polls.LEASE_S)
        with rt.sessions.begin() as s:  # b dies too: its lease runs out
            s.execute(update(PollCursor).where(PollCursor.workspace == workspace).values(lease_until=later))
        after = later + dt.timedelta(seconds=1)
        barrier = threading.Barrier(4)
        found: list[list[int]] = []

        def poll(holder: str) -> None:
            barrier.wait()
            found.append(polls.poll_due(rt, after, holder))

        threads = [threading.Thread(target=poll, args=(f"p{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(len(f) for f in found) == [0, 0, 0, 20]
        assert sorted(polled(rt, workspace)) == list(range(20))
        assert polls.poll_due(rt, after, "p0") == []  # not due again before its interval
        source.add(3)
        assert len(polls.poll_due(rt, after + TICK, "p1")) == 3
    finally:
        rt.close()


@pytest.mark.parametrize("backend", ONLY_EMBEDDED, indirect=True)
def test_a_failing_poll_keeps_its_watermark_and_says_why(sqlite_source, workspace, partner):
    source, settings, url = sqlite_source
    rt = Runtime(settings)
    try:
        own(rt, workspace, partner)
        connections.save(rt, workspace, "src", {"system": "sql", "base_url": url})
        deploy(rt, workspace, flow(settle_s=60))
        source.add(14)  # two timestamps: T0 and T0 + 1 ms
        assert polls.poll_due(rt, T0 + dt.timedelta(seconds=30), "a") == []  # younger than settle_s
        assert len(polls.poll_due(rt, T0 + dt.timedelta(seconds=61), "a")) == 14
        mark = cursor(rt, workspace).watermark
        connections.remove(rt, workspace, "src")
        source.add(7)
        assert polls.poll_due(rt, T0 + dt.timedelta(seconds=200), "a") == []
        row = cursor(rt, workspace)
        assert (row.watermark, row.holder) == (mark, None) and "no connection named 'src'" in row.error
        connections.save(rt, workspace, "src", {"system": "sql", "base_url": url})
        assert polls.poll_due(rt, T0 + dt.timedelta(seconds=202), "a") == []  # waits out its interval
        assert len(polls.poll_due(rt, T0 + dt.timedelta(seconds=205), "a")) == 7
        assert cursor(rt, workspace).error is None and sorted(polled(rt, workspace)) == list(range(21))
    finally:
        rt.close()


@pytest.mark.parametrize("backend", ONLY_EMBEDDED, indirect=True)
def test_an_unexpected_failure_releases_the_lease_and_leaves_the_other_nodes_polled(sqlite_source, workspace, partner,
                                                                                   monkeypatch):
    source, settings, url = sqlite_source
    rt = Runtime(settings)
    try:
        own(rt, workspace, partner)
        connections.save(rt, workspace, "src", {"system": "sql", "base_url": url})
        deploy(rt, workspace, flow())
        other = flow()
        other["id"] = "second"
        deploy(rt, workspace, other)
        source.add(4)
        module = rt.plan_for(workspace, "feed", 1).nodes["poll"].module
        fetch = module.fetch

        def broken(prepared, *args):
            if prepared is rt.plan_for(workspace, "feed", 1).nodes["poll"].prepared:
                raise RuntimeError("a bug")
            return fetch(prepared, *args)

        monkeypatch.setattr(module, "fetch", broken)
        assert len(polls.poll_due(rt, T0, "a")) == 4  # the second flow's
        row = cursor(rt, workspace)
        assert (row.holder, row.watermark, row.error) == (None, None, "RuntimeError: a bug")
    finally:
        rt.close()


@pytest.mark.parametrize("backend", ONLY_EMBEDDED, indirect=True)
def test_an_http_list_is_polled_after_its_watermark_even_when_the_api_repeats_itself(store, workspace, http_target):
    def item(n: int, minute: int) -> dict:
        return {"number": f"SH{n}", "updated": f"2026-11-28T06:{minute:02d}:00Z"}

    connections.save(store, workspace, "wms", {"system": "http", "base_url": http_target.url,
                                               "auth": {"type": "api_key", "key": "k3y", "header": "X-Key"}})
    doc = flow("wms", None, source="http", path="/shipments", records="data", timestamp_field="updated",
               id_field="number")
    del doc["nodes"][0]["config"]["table"]
    deploy(store, workspace, doc)
    # an API that knows no watermark: every answer starts at the beginning
    http_target.script = [(200, {"data": [item(1, 0), item(2, 0)]}, {}),
                          (200, {"data": [item(1, 0), item(2, 0), item(3, 1)]}, {}),
                          (200, {"data": [item(1, 0), item(2, 0), item(3, 1)]}, {})]
    assert len(polls.poll_due(store, T0, "a")) == 2
    assert len(polls.poll_due(store, T0 + TICK, "a")) == 1
    assert polls.poll_due(store, T0 + 2 * TICK, "a") == []
    with store.sessions() as s:
        numbers = s.scalars(select(Run.input["number"].as_string()).where(Run.workspace == workspace)
                            .order_by(Run.id)).all()
    assert numbers == ["SH1", "SH2", "SH3"]
    assert http_target.requests[1]["headers"]["X-Key"] == "k3y"
    assert "since=2026-11-28T06%3A00%3A00%2B00%3A00&after_id=SH2" in http_target.requests[1]["path"]


@pytest.mark.parametrize("backend", ONLY_EMBEDDED, indirect=True)
def test_polled_records_run_through_a_flow_that_writes_them_with_connector_sql(make_settings, workspace, partner,
                                                                                tmp_path):
    """The runtime's wiring end to end: a SQLite source polled, each record upserted into another database by
    connector.sql through its workspace connection, under the guard the runtime builds."""
    folder = tmp_path / "dbs"
    folder.mkdir()
    source = Source(f"sqlite:///{folder / 'source.db'}")
    target = create_engine(f"sqlite:///{folder / 'target.db'}")
    with target.begin() as c:
        c.exec_driver_sql("CREATE TABLE stock (sku VARCHAR(20) PRIMARY KEY, seen INTEGER)")
    rt = Runtime(make_settings(sql_file_dirs=(str(folder),)))
    try:
        own(rt, workspace, partner)
        rt.start_workers()
        for name, file in (("src", "source.db"), ("dst", "target.db"), ("own", "../data/crossdock.sqlite")):
            connections.save(rt, workspace, name, {"system": "sql", "base_url": f"sqlite:///{folder / file}"})
        doc = flow()
        doc["nodes"][1] = {"id": "end", "type": "connector.sql", "config": {
            "connection": "dst", "operation": "upsert", "table": "stock", "key": ["sku"],
            "params": "{'sku': sku, 'seen': id}"}}
        deploy(rt, workspace, doc)
        source.add(5)
        run_ids = polls.poll_due(rt, T0, "a")
        assert len(run_ids) == 5
        wait_for(lambda: _statuses(rt, run_ids) == {"succeeded"})
        with target.connect() as c:
            assert sorted(c.exec_driver_sql("SELECT sku FROM stock")) == [(f"S{i}",) for i in range(5)]
        # the same flow pointed at Crossdock's own database fails: refused, not reached
        doc["id"] = "own"
        doc["nodes"][1]["config"]["connection"] = "own"
        deploy(rt, workspace, doc)
        [run_id] = polls.poll_due(rt, T0, "a")[:1]
        wait_for(lambda: _statuses(rt, [run_id]) - {"queued", "running"})
        with rt.sessions() as s:
            run = s.get(Run, run_id)
        assert run.status in ("failed", "dead_lettered") and "egress_denied" in str(run.error)
    finally:
        rt.close()
        source.close()
        target.dispose()


def _statuses(rt, run_ids: list[int]) -> set[str]:
    with rt.sessions() as s:
        return set(s.scalars(select(Run.status).where(Run.id.in_(run_ids))))


@pytest.mark.parametrize("backend", ONLY_SERVICES, indirect=True)
def test_on_postgresql_concurrent_processes_take_the_lease_once(store, workspace, pg_source):
    source, url = pg_source
    save_pg(store, workspace, url)
    deploy(store, workspace, flow())
    source.add(30)
    others = [Runtime(store.settings) for _ in range(2)]
    barrier = threading.Barrier(4)
    found: list[list[int]] = []

    def poll(rt, holder: str) -> None:
        barrier.wait()
        found.append(polls.poll_due(rt, T0, holder))

    try:
        threads = [threading.Thread(target=poll, args=(rt, f"p{i}"))
                   for i, rt in enumerate([store, store, *others])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(map(len, found)) == [0, 0, 0, 30] and sorted(polled(store, workspace)) == list(range(30))
    finally:
        for rt in others:
            rt.close()
        with store.sessions.begin() as s:  # the schema is shared: leave no queued run for another test's workers
            s.execute(delete(Run).where(Run.workspace == workspace))


@pytest.mark.parametrize("backend", ONLY_EMBEDDED, indirect=True)
def test_a_sql_connection_keeps_its_password_among_the_secrets(store, workspace):
    saved = connections.save(store, workspace, "erp_db", {
        "system": "sql", "base_url": "postgresql+psycopg://erp:s3cret@db.example:5432/erp?sslmode=require"})
    assert saved["base_url"] == "postgresql+psycopg://erp@db.example:5432/erp?sslmode=require"
    assert "s3cret" not in str(saved) and saved["secret_set"]
    resolved = connections.resolve(store, workspace, "erp_db")
    assert resolved["auth"]["password"] == "s3cret"
    for bad in ("postgresql+psycopg://db.example/erp?passfile=/etc/passwd", "postgresql+psycopg:///erp",
                "http://db.example", "nosuchdb://h/x", "sqlite:///file:x?mode=ro"):
        with pytest.raises(connections.InvalidConnection) as caught:
            connections.save(store, workspace, "bad", {"system": "sql", "base_url": bad})
        assert caught.value.field == "base_url", bad
